import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogsData, MetricsData, TracesData } from '../../core/otlp/model.ts';
import { createClickHouseClient, queryRows, type ClickHouseClient } from './client.ts';
import { ClickHouseExporter } from './exporter.ts';
import { count, deliveries, metricValue, testConfig, testContext, testDataDir } from './test-support.ts';

const dataDir = testDataDir('exactly-once');
const enginePath = path.join(dataDir, 'engine');
let client: ClickHouseClient;
const running = new Set<ClickHouseExporter>();

beforeAll(() => {
  client = createClickHouseClient(testConfig(enginePath, {}).connection, { dataDir, configDir: dataDir });
});
afterAll(async () => {
  for (const e of running) await e.shutdown();
  await client.close();
});

/** A new exporter instance on the same engine and database: what a restarted process is. */
async function startExporter(database: string) {
  const ctx = testContext(path.join(dataDir, database), true);
  const exporter = new ClickHouseExporter(testConfig(enginePath, { database, batch: { timeout: '10ms' } }), ctx);
  await exporter.start();
  running.add(exporter);
  return { exporter, ctx };
}

/** Dropped without shutdown, as after SIGKILL: nothing is flushed or closed on the way out. */
function crash(exporter: ClickHouseExporter) {
  running.delete(exporter);
}

function trace(seed: number): TracesData {
  const traceId = seed.toString(16).padStart(32, '0');
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'eo' } }] },
      scopeSpans: [{
        spans: [1, 2, 3].map((n) => ({
          traceId,
          spanId: (seed * 16 + n).toString(16).padStart(16, '0'),
          name: `s${n}`,
          startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(seed * 1_000 + n)),
          endTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(seed * 1_000 + n + 10)),
        })),
      }],
    }],
  };
}

const traces = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => trace(from + i));
const topic = 'agentotel.traces.dedupe';

async function duplicates(table: string, key: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(client, `SELECT toString(count() - uniqExact(${key})) AS n FROM ${table}`);
  return Number(row!.n);
}

describe('exactly-once on a durable bus', () => {
  it('after a restart, redelivered messages that were already inserted are not written again', async () => {
    const first = await startExporter('restart');
    await first.exporter.export('traces', deliveries(traces(0, 10), topic, 0, 0)); // offsets 0..9 stored
    crash(first.exporter); // "SIGKILL" before the bus committed offsets 0..9

    const second = await startExporter('restart');
    // The bus redelivers from the last commit (offset 5 here) and goes on with new messages.
    await second.exporter.export('traces', deliveries(traces(5, 15), topic, 0, 5));
    expect(await count(client, 'restart.otel_traces')).toBe(15 * 3);
    expect(await duplicates('restart.otel_traces', '(TraceId, SpanId)')).toBe(0);
    expect(metricValue(second.ctx.metrics, 'agentotel_clickhouse_duplicate_rows_dropped_total{exporter="clickhouse",table="restart.otel_traces"}')).toBe(5 * 3);

    // Another partition of the same topic has its own mark: its offsets 0..4 are new.
    await second.exporter.export('traces', deliveries(traces(100, 105), topic, 1, 0));
    expect(await count(client, 'restart.otel_traces')).toBe(20 * 3);
  });

  it('a crash after recording progress but before the insert loses nothing', async () => {
    const first = await startExporter('recorded');
    await first.exporter.export('traces', deliveries(traces(0, 4), topic, 0, 0));
    // Progress for offsets up to 9 was recorded, then the process died before inserting 4..9.
    await client.insert({ table: 'recorded.agentotel_export_progress', values: [{ exporter: 'clickhouse', topic, partition: 0, max_offset: 9 }], format: 'JSONEachRow' });
    crash(first.exporter);

    const second = await startExporter('recorded');
    await second.exporter.export('traces', deliveries(traces(0, 12), topic, 0, 0));
    expect(await count(client, 'recorded.otel_traces')).toBe(12 * 3);
    expect(await duplicates('recorded.otel_traces', '(TraceId, SpanId)')).toBe(0);
  });

  it('logs and metrics: redelivered records are matched by content, repeats within new data are kept', async () => {
    const log = (body: string, ns: string) => ({ timeUnixNano: ns, severityNumber: 9, body: { stringValue: body } });
    const logs = (n: number): LogsData => ({
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'eo' } }] },
        // Two identical records in one message are two records.
        scopeLogs: [{ logRecords: [log(`event ${n}`, String(1_700_000_000_000_000_000n + BigInt(n))), log('same', '1700000000000000999'), log('same', '1700000000000000999')] }],
      }],
    });
    const gauge = (n: number): MetricsData => ({
      resourceMetrics: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'eo' } }] },
        scopeMetrics: [{ metrics: [{ name: 'sessions', gauge: { dataPoints: [{ attributes: [{ key: 'n', value: { intValue: String(n) } }], timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(n)), asInt: String(n) }] } }] }],
      }],
    });

    const first = await startExporter('content');
    await first.exporter.export('logs', deliveries([logs(0), logs(1)], 'agentotel.logs', 0, 0));
    await first.exporter.export('metrics', deliveries([gauge(0), gauge(1)], 'agentotel.metrics', 0, 0));
    crash(first.exporter);

    const second = await startExporter('content');
    await second.exporter.export('logs', deliveries([logs(0), logs(1), logs(2)], 'agentotel.logs', 0, 0));
    await second.exporter.export('metrics', deliveries([gauge(0), gauge(1), gauge(2)], 'agentotel.metrics', 0, 0));
    expect(await count(client, 'content.otel_logs')).toBe(9);
    expect(await count(client, 'content.otel_logs', "Body = 'same'")).toBe(6);
    expect(await count(client, 'content.otel_metrics_gauge')).toBe(3);
  });
});
