/**
 * `agentotel reprice` against the embedded ClickHouse engine: spans priced by the enrichment
 * processor with an older pricing table are stored through the clickhouse exporter; after the
 * table is corrected, reprice writes the stale model calls (and their session's reconciliation)
 * again as new versions of the same spans — from each span's latest version, only within
 * `--since`, and not again once they carry the current version.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { modelCallView, sessionView, toolCallView } from '../../core/agent/genai.ts';
import {
  AgentAttr,
  agentSpanId,
  capturesToTraces,
  sessionTraceId,
  type SessionCapture,
  type SpanView,
} from '../../core/agent/session-spans.ts';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { setAttribute } from '../../core/otlp/attributes.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { mapTraces } from '../../core/otlp/traces.ts';
import { clickhouseExporterFactory, createClickHouseClient, queryRows, type ClickHouseClient } from '../../exporters/clickhouse/index.ts';
import { enrichmentProcessorFactory } from '../../processors/enrichment/index.ts';
import { loadServiceConfig } from '../../service/service.ts';
import type { ServiceConfig } from '../../service/config.ts';
import { reprice, runReprice } from '../../cli/reprice.ts';
import { tempDir } from '../helpers/pipeline.ts';

const dir = tempDir('reprice');
const chPath = path.join(dir, 'clickhouse');
const NOW = Date.now();
const DAY_NS = 86_400_000_000_000n;
const nowNs = BigInt(NOW) * 1_000_000n;

const rates = (input: number, output: number, w5: number, w1: number, read: number) =>
  ({ from: '2026-01-01', source: 's', input, output, cache_write_5m: w5, cache_write_1h: w1, cache_read: read }) as const;
function writeTable(file: string, version: string, models: Record<string, ReturnType<typeof rates>>): string {
  const doc = {
    version,
    sources: { s: 'a test' },
    models: Object.fromEntries(Object.entries(models).map(([m, p]) => [m, { provider: 'anthropic', prices: [p] }])),
  };
  writeFileSync(path.join(dir, file), stringify(doc));
  return file;
}
// The first table priced claude-opus-5-5 like Opus 5 and did not know claude-lite-1; the corrected one does.
const OLD = writeTable('old.yaml', 'old-1', { 'claude-opus-5-5': rates(5, 25, 6.25, 10, 0.5) });
const NEW = writeTable('new.yaml', 'new-2', { 'claude-opus-5-5': rates(4, 20, 5, 8, 0.2), 'claude-lite-1': rates(1, 5, 1.25, 2, 0.1) });

function writeConfig(pricingFile: string): string {
  const file = path.join(dir, `agentotel-${pricingFile}`);
  writeFileSync(
    file,
    stringify({
      data_dir: dir,
      receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
      processors: { enrichment: { pricing_file: pricingFile } },
      exporters: { clickhouse: { endpoint: 'embedded', path: chPath, database: 'agentotel' } },
      service: { pipelines: { traces: { receivers: ['otlp'], processors: ['enrichment'], exporters: ['clickhouse'] } } },
    }),
  );
  return file;
}

// ── a session priced with the old table ───────────────────────────────────────

const SESSION = 'reprice-session';
const TRACE = sessionTraceId('claude-code', SESSION);
const prompt = { kind: 'prompt', key: 'p1' } as const;
const call = (key: string, model: string, u: { input: number; output: number; read?: number; write?: number }, startNs: bigint): SpanView =>
  modelCallView(key, prompt, 'anthropic', model, {
    startNs,
    endNs: startNs + 1_000_000_000n,
    attributes: {
      'gen_ai.usage.input_tokens': u.input,
      'gen_ai.usage.output_tokens': u.output,
      'gen_ai.usage.cache_read.input_tokens': u.read,
      'gen_ai.usage.cache_creation.input_tokens': u.write,
    },
  });
const yesterday = nowNs - DAY_NS;
// a-baseline's two calls: $0.072567 and $0.004202 as Claude Code prices them; claude-lite-1: 1,000·1 + 1,000·5 = $0.006.
const views: SpanView[] = [
  sessionView('claude-code', SESSION, { startNs: yesterday, attributes: { 'agentotel.agent.cost_usd': 0.082769 } }),
  call('req_1', 'claude-opus-5-5', { input: 3 + 14_215, output: 74, write: 14_215 }, yesterday),
  call('req_2', 'claude-opus-5-5', { input: 1 + 14_215 + 187, output: 21, read: 14_215, write: 187 }, yesterday + 1_000_000_000n),
  call('req_3', 'claude-lite-1', { input: 1_000, output: 1_000 }, yesterday + 2_000_000_000n),
  toolCallView('toolu_1', prompt, 'Bash', { startNs: yesterday }),
];
const OLD_SESSION = 'old-session';
const oldViews: SpanView[] = [call('req_old', 'claude-opus-5-5', { input: 1_000_000, output: 0 }, nowNs - 90n * DAY_NS)];

const capture = (sessionId: string, v: SpanView[]): SessionCapture => ({ agent: 'claude-code', sessionId, path: 'transcript', views: v });
const withVersion = (data: TracesData, version: number, extra: Record<string, string> = {}): TracesData =>
  mapTraces(data, (span) => {
    const attributes = [...(span.attributes ?? [])];
    setAttribute(attributes, AgentAttr.version, version);
    for (const [k, v] of Object.entries(extra)) setAttribute(attributes, k, v);
    return { ...span, attributes };
  });

let newConfig: ServiceConfig;
let client: ClickHouseClient;

interface Latest {
  version: string;
  attrs: Record<string, string>;
}
const callId = (key: string) => agentSpanId(TRACE, { kind: 'model_call', key });
const sessionId = agentSpanId(TRACE, { kind: 'session', key: SESSION });

/** The latest version of each span of a trace, by span id. */
async function latest(traceId: string): Promise<Map<string, Latest>> {
  const rows = await queryRows<Latest & { SpanId: string }>(
    client,
    `SELECT SpanId, toString(max(toUInt32OrZero(SpanAttributes['agentotel.span.version']))) AS version,
            argMax(SpanAttributes, toUInt32OrZero(SpanAttributes['agentotel.span.version'])) AS attrs
     FROM agentotel.otel_traces WHERE TraceId = {t:String} GROUP BY SpanId`,
    { t: traceId },
  );
  return new Map(rows.map(({ SpanId, ...r }) => [SpanId, r]));
}
const rowCount = async () => Number((await queryRows<{ n: string }>(client, 'SELECT count() AS n FROM agentotel.otel_traces'))[0]!.n);

beforeAll(async () => {
  // Priced by the enrichment processor with the old table, stored by the exporter as dedupe writes: version 1,
  // and req_1 once more as version 2 (a late view merged in).
  newConfig = await loadServiceConfig(writeConfig(NEW));
  const enrichment = enrichmentProcessorFactory.create(
    enrichmentProcessorFactory.parseConfig(new Fields({ pricing_file: OLD }, 'processors.enrichment')),
    {
      id: 'enrichment',
      dataDir: path.join(dir, 'enrichment'),
      configDir: dir,
      metrics: new MetricsRegistry(),
      recentOutput: async function* () {},
    },
  );
  const priced = await enrichment.processTraces(capturesToTraces([capture(SESSION, views), capture(OLD_SESSION, oldViews)]));
  const req1 = await enrichment.processTraces(capturesToTraces([capture(SESSION, [views[1]!])]));
  const exporter = clickhouseExporterFactory.create(
    clickhouseExporterFactory.parseConfig(new Fields({ endpoint: 'embedded', path: chPath, database: 'agentotel' }, 'x')),
    {
      id: 'clickhouse',
      dataDir: path.join(dir, 'clickhouse-exporter'),
      configDir: dir,
      metrics: new MetricsRegistry(),
      durableBus: false,
    },
  );
  await exporter.start();
  await exporter.export('traces', [
    { value: withVersion(priced, 1), topic: 't', partition: 0, offset: '0' },
    { value: withVersion(req1, 2, { 'test.late_view': 'yes' }), topic: 't', partition: 0, offset: '1' },
  ]);
  await exporter.shutdown();
  client = createClickHouseClient(
    { endpoint: 'embedded', path: chPath, username: 'default', password: '', timeoutMs: 30_000 },
    { dataDir: dir, configDir: dir },
  );
});

afterAll(async () => {
  await client?.close();
});

describe('agentotel reprice', () => {
  it('the stored spans carry the old table’s version; the session total drifted (a call was unpriced)', async () => {
    const spans = await latest(TRACE);
    // 3·5 + 74·25 + 14,215·6.25 = 90,708.75 per MTok
    expect(spans.get(callId('req_1'))).toMatchObject({
      version: '2',
      attrs: { 'agentotel.pricing.version': 'old-1', 'agentotel.cost.usd': '0.09070875' },
    });
    expect(spans.get(callId('req_3'))!.attrs['agentotel.cost.unpriced']).toBe('true');
    expect(spans.get(sessionId)!.attrs).toMatchObject({ 'agentotel.cost.unpriced_calls': '1', 'agentotel.cost.drift': 'true' });
  });

  it('--dry-run reports what would change and writes nothing', async () => {
    const before = await rowCount();
    const summary = await reprice(newConfig, { sinceMs: 30 * 86_400_000, dryRun: true, now: NOW });
    expect(summary).toMatchObject({
      version: 'new-2',
      stale: { 'old-1': 3 },
      sessions: 1,
      costChanged: 2,
      newlyPriced: 1,
      stillUnpriced: 0,
      totals: 1,
      written: 0,
    });
    expect(await rowCount()).toBe(before);
  });

  it('writes each stale model call and its session’s reconciliation as the next version of the span', async () => {
    const summary = await reprice(newConfig, { sinceMs: 30 * 86_400_000, dryRun: false, now: NOW });
    expect(summary).toMatchObject({ written: 4, costChanged: 2, newlyPriced: 1, totals: 1 });
    const spans = await latest(TRACE);
    // From the latest version (req_1's late view kept), one higher.
    expect(spans.get(callId('req_1'))).toMatchObject({
      version: '3',
      attrs: {
        'agentotel.pricing.version': 'new-2',
        'agentotel.cost.usd': '0.072567',
        'test.late_view': 'yes',
        'agentotel.span.kind': 'model_call',
      },
    });
    expect(spans.get(callId('req_2'))).toMatchObject({
      version: '2',
      attrs: { 'agentotel.pricing.version': 'new-2', 'agentotel.cost.usd': '0.004202' },
    });
    expect(spans.get(callId('req_3'))).toMatchObject({
      version: '2',
      attrs: { 'agentotel.cost.usd': '0.006', 'agentotel.pricing.model': 'claude-lite-1' },
    });
    expect(spans.get(callId('req_3'))!.attrs['agentotel.cost.unpriced']).toBeUndefined();
    expect(spans.get(sessionId)).toMatchObject({
      version: '2',
      attrs: { 'agentotel.cost.computed_usd': '0.082769', 'agentotel.cost.drift': 'false', 'agentotel.cost.drift_usd': '0' },
    });
    expect(spans.get(sessionId)!.attrs['agentotel.cost.unpriced_calls']).toBeUndefined();
    // The tool call has no price: untouched.
    expect(spans.get(agentSpanId(TRACE, { kind: 'tool_call', key: 'toolu_1' }))!.version).toBe('1');
    // A new version is the same span: name, parent, start and duration as stored.
    const [req1] = await queryRows<{ versions: number; names: number; parents: number; starts: number; durations: number }>(
      client,
      `SELECT count() AS versions, uniqExact(SpanName) AS names, uniqExact(ParentSpanId) AS parents, uniqExact(Timestamp) AS starts,
              uniqExact(Duration) AS durations
       FROM agentotel.otel_traces WHERE TraceId = {t:String} AND SpanId = {s:String}`,
      { t: TRACE, s: callId('req_1') },
    );
    expect(req1).toEqual({ versions: 3, names: 1, parents: 1, starts: 1, durations: 1 });
  });

  it('leaves model calls started before --since, and has nothing to do the second time', async () => {
    const [old] = [...(await latest(sessionTraceId('claude-code', OLD_SESSION))).values()];
    expect(old).toMatchObject({ version: '1', attrs: { 'agentotel.pricing.version': 'old-1', 'agentotel.cost.usd': '5' } });
    expect(await reprice(newConfig, { sinceMs: 30 * 86_400_000, dryRun: false, now: NOW })).toMatchObject({ stale: {}, written: 0 });
  });

  it('the command: -c, --since, --dry-run; a bad duration is a usage error', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await runReprice(['-c', path.join(dir, `agentotel-${NEW}`), '--since', '100d', '--dry-run'])).toBe(0);
      expect(log.mock.calls.at(-1)![0]).toBe(
        'pricing table new-2: 1 model calls in 1 sessions were priced with another version (old-1: 1); ' +
          '1 cost changed, 0 newly priced, 0 still unpriced (total -$1); 0 session totals reconciled again; dry run: nothing written',
      );
      expect(await runReprice(['--since', 'soon'])).toBe(2);
      expect(error.mock.calls.at(-1)![0]).toMatch(/^--since: must be a duration such as 500ms, 5s, 1h \(got "soon"\)/);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});
