/**
 * agentotel as a user runs it (`agentotel up`, embedded mode, its own process), with a config
 * for the test: every receiver on a free port, the transcripts receiver tailing the test HOME,
 * a short dedupe merge window. ClickHouse is queried only after it stopped: the embedded
 * engine's data directory belongs to one process at a time.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentName } from '../../core/agent/session-spans.ts';
import { queryRows, type ClickHouseClient } from '../../exporters/clickhouse/index.ts';
import { embeddedClient, repoRoot } from '../helpers/pipeline.ts';
import { startAgentotel, scrapeCounter, type AgentotelProcess } from '../helpers/processes.ts';

export const E2E_TOKEN = 'e2e-ingest-token';
const MERGE_WINDOW_MS = 2_000;

export interface AgentotelUnderTest {
  process: AgentotelProcess;
  otlpGrpc: string;
  otlpHttp: string;
  hooks: string;
  telemetry: string;
}

/** The config: every receiver on a free port, the transcripts receiver tailing `sources`. */
function writeE2eConfig(file: string, dataDir: string, sources: { agent: AgentName; root: string }[]): void {
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
${sources.map((s) => `      - { agent: ${s.agent}, root: ${JSON.stringify(s.root)} }`).join('\n')}
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

async function startAgentotelUnderTest(configFile: string): Promise<AgentotelUnderTest> {
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
async function settle(a: AgentotelUnderTest, expected: number, timeoutMs: number): Promise<number> {
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

export interface AgentotelRun {
  /** agentotel's exit code once stopped, and what it printed. */
  exitCode: number | null;
  output: string;
  /** The ClickHouse agentotel wrote to (open once it stopped). */
  client: ClickHouseClient;
}

/**
 * Runs agentotel with the e2e config (data in <root>/data, the transcripts receiver tailing
 * `sources`), lets `drive` run the agents against it (it returns how many span rows they should
 * write), waits for the rows to settle within `settleMs`, stops agentotel and opens its ClickHouse.
 */
export async function runAgentotel(
  root: string,
  sources: { agent: AgentName; root: string }[],
  settleMs: number,
  drive: (a: AgentotelUnderTest) => Promise<number>,
): Promise<AgentotelRun> {
  const configFile = path.join(root, 'agentotel.yaml');
  const dataDir = path.join(root, 'data');
  writeE2eConfig(configFile, dataDir, sources);
  const agentotel = await startAgentotelUnderTest(configFile);
  let exitCode: number | null;
  try {
    await settle(agentotel, await drive(agentotel), settleMs);
  } finally {
    exitCode = await agentotel.process.stop();
  }
  return { exitCode, output: agentotel.process.output(), client: embeddedClient(dataDir) };
}

/** What every e2e test reads of a row of otel_traces. */
export interface SpanWrite {
  SpanId: string;
  ParentSpanId: string;
  SpanName: string;
  StatusCode: string;
  kind: string;
  /** The capture paths merged into the span. */
  paths: string;
  input: string;
  output: string;
  cacheRead: string;
  /** The write's agentotel.span.version: a span merged again after a late view is written again, with the next. */
  version: string;
}

export const spanAttr = (key: string) => `SpanAttributes['${key}']`;

/** Every write of the trace's spans: the SpanWrite columns and `more` (SQL select items). */
export function spanWrites<R extends SpanWrite>(client: ClickHouseClient, traceId: string, more: string[]): Promise<R[]> {
  return queryRows<R>(
    client,
    `SELECT SpanId, ParentSpanId, SpanName, StatusCode, ${spanAttr('agentotel.span.kind')} AS kind,
            ${spanAttr('agentotel.capture.path')} AS paths, ${spanAttr('gen_ai.usage.input_tokens')} AS input,
            ${spanAttr('gen_ai.usage.output_tokens')} AS output, ${spanAttr('gen_ai.usage.cache_read.input_tokens')} AS cacheRead,
            ${spanAttr('agentotel.span.version')} AS version, ${more.join(', ')}
     FROM agentotel.otel_traces WHERE TraceId = {t:String}`,
    { t: traceId },
  );
}

/** The latest write of each span. */
export function latestWrites<R extends SpanWrite>(rows: R[]): R[] {
  const latest = new Map<string, R>();
  for (const r of rows) {
    const seen = latest.get(r.SpanId);
    if (!seen || Number(r.version) > Number(seen.version)) latest.set(r.SpanId, r);
  }
  return [...latest.values()];
}
