/**
 * agentotel as a user runs it (`agentotel up`, embedded mode, its own process), with a config
 * for the test: every receiver on a free port, the transcripts receiver tailing the test HOME,
 * a short dedupe merge window. ClickHouse is queried only after it stopped: the embedded
 * engine's data directory belongs to one process at a time.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAgentotel, scrapeCounter, type AgentotelProcess } from '../helpers/processes.ts';
import { repoRoot } from '../helpers/pipeline.ts';

export const E2E_TOKEN = 'e2e-ingest-token';
export const MERGE_WINDOW_MS = 2_000;

export interface AgentotelUnderTest {
  process: AgentotelProcess;
  otlpGrpc: string;
  otlpHttp: string;
  hooks: string;
  telemetry: string;
}

export function writeE2eConfig(file: string, dataDir: string, claudeProjectsDir: string): void {
  const yaml = `
data_dir: ${JSON.stringify(dataDir)}
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
    auth: { tokens: ${E2E_TOKEN} }
  hooks:
    endpoint: 127.0.0.1:0
    auth: { tokens: ${E2E_TOKEN} }
  transcripts:
    sources:
      - { agent: claude-code, root: ${JSON.stringify(claudeProjectsDir)} }
    poll_interval: 200ms
processors:
  redaction: { tier: 2 }
  enrichment: { pricing_file: ${JSON.stringify(path.join(repoRoot, 'config/pricing.yaml'))} }
  dedupe: { window: 1h, merge_window: ${MERGE_WINDOW_MS}ms }
exporters:
  clickhouse: { endpoint: embedded, database: agentotel }
service:
  pipelines:
    traces:
      receivers: [otlp, hooks, transcripts]
      processors: [redaction, enrichment, dedupe]
      exporters: [clickhouse]
    logs: { receivers: [otlp], exporters: [clickhouse] }
    metrics: { receivers: [otlp], exporters: [clickhouse] }
  telemetry:
    metrics: { address: 127.0.0.1:0 }
    logs: { level: warn }
`;
  writeFileSync(file, yaml);
}

function endpoint(endpoints: Record<string, string>, prefix: string): string {
  const key = Object.keys(endpoints).find((k) => k.startsWith(prefix));
  if (!key) throw new Error(`agentotel reports no ${prefix}* endpoint (it has ${Object.keys(endpoints).join(', ')})`);
  return endpoints[key]!;
}

export async function startAgentotelUnderTest(configFile: string): Promise<AgentotelUnderTest> {
  const env = { ...process.env, AGENTOTEL_INGEST_TOKEN: E2E_TOKEN };
  const proc = startAgentotel('agentotel up', ['up', '--json', '-c', configFile], env);
  const { endpoints } = await proc.ready;
  return {
    process: proc,
    otlpGrpc: endpoint(endpoints, 'otlp.grpc'),
    otlpHttp: endpoint(endpoints, 'otlp.http'),
    hooks: endpoint(endpoints, 'hooks'),
    telemetry: endpoint(endpoints, 'telemetry'),
  };
}

/**
 * Waits until the span rows written reach `expected` and then stay put for longer than the merge
 * window (a late view of a span would be written then), or until `timeoutMs`. Never throws: the
 * assertions on the rows say what is missing.
 */
export async function settle(a: AgentotelUnderTest, expected: number, timeoutMs: number): Promise<number> {
  const quietMs = MERGE_WINDOW_MS + 2_000;
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const rows = await scrapeCounter(a.telemetry, 'agentotel_clickhouse_rows_written_total', 'otel_traces').catch(() => last);
    if (rows !== last) {
      last = rows;
      since = Date.now();
    } else if (rows >= expected && Date.now() - since >= quietMs) {
      return rows;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}
