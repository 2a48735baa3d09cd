import { copyFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TracesData } from '../../core/otlp/model.ts';
import { Fields } from '../../core/config/fields.ts';
import { createClickHouseClient, type ClickHouseClient } from './client.ts';
import { parseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';
import { count, deliveries, metricValue, testConfig, testContext, testDataDir } from './test-support.ts';

const dataDir = testDataDir('outage');
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

const FAST_RETRY = { initial_interval: '50ms', max_interval: '200ms', max_elapsed_time: '400ms' };

async function startExporter(database: string, durableBus: boolean, raw: Record<string, unknown> = {}) {
  const ctx = testContext(path.join(dataDir, database), durableBus);
  const exporter = new ClickHouseExporter(testConfig(enginePath, { database, batch: { timeout: '10ms' }, spool: { redrive_interval: '1h' }, ...raw }), ctx);
  await exporter.start();
  running.add(exporter);
  return { exporter, ctx };
}

async function stop(exporter: ClickHouseExporter) {
  await exporter.shutdown();
  running.delete(exporter);
}

function spans(n: number, seed: number): TracesData {
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'outage' } }] },
      scopeSpans: [{
        spans: Array.from({ length: n }, (_, i) => ({
          traceId: seed.toString(16).padStart(32, '0'),
          spanId: (i + 1).toString(16).padStart(16, '0'),
          name: 'op',
          startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
          endTimeUnixNano: String(1_700_000_000_000_000_500n + BigInt(i)),
        })),
      }],
    }],
  };
}

/** The outage: the table is renamed away, so every insert into it fails until it is renamed back. */
const takeOffline = (db: string) => client.command({ query: `RENAME TABLE ${db}.otel_traces TO ${db}.otel_traces_offline` });
const bringBack = (db: string) => client.command({ query: `RENAME TABLE ${db}.otel_traces_offline TO ${db}.otel_traces` });

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('clickhouse exporter during an outage', () => {
  it('retries with backoff and succeeds once ClickHouse takes inserts again', async () => {
    const { exporter, ctx } = await startExporter('retry', false, { retry_on_failure: { initial_interval: '100ms', max_interval: '200ms', max_elapsed_time: '20s' } });
    await takeOffline('retry');
    const done = exporter.export('traces', deliveries([spans(30, 1)]));
    await new Promise((r) => setTimeout(r, 500));
    await bringBack('retry');
    await done;
    expect(await count(client, 'retry.otel_traces')).toBe(30);
    expect(metricValue(ctx.metrics, 'agentotel_clickhouse_retries_total{exporter="clickhouse"}')).toBeGreaterThanOrEqual(2);
    expect(metricValue(ctx.metrics, 'agentotel_clickhouse_insert_failures_total{exporter="clickhouse",table="retry.otel_traces"}')).toBeGreaterThanOrEqual(2);
    expect(exporter.spooledBatches()).toBe(0);
  });

  it('embedded: spools to disk after max_elapsed_time, resolves, and re-drives exactly once when ClickHouse is back', async () => {
    const { exporter, ctx } = await startExporter('spool', false, { retry_on_failure: FAST_RETRY });
    await takeOffline('spool');
    await exporter.export('traces', deliveries([spans(25, 2)]));
    expect(exporter.spooledBatches()).toBe(1);
    expect(metricValue(ctx.metrics, 'agentotel_clickhouse_spooled_batches_total{exporter="clickhouse"}')).toBe(1);
    expect(metricValue(ctx.metrics, 'agentotel_clickhouse_spool_files{exporter="clickhouse"}')).toBe(1);

    expect(await exporter.drainSpool()).toBe(0); // still down: the file stays
    expect(exporter.spooledBatches()).toBe(1);
    await bringBack('spool');
    expect(await exporter.drainSpool()).toBe(1);
    expect(exporter.spooledBatches()).toBe(0);
    expect(await count(client, 'spool.otel_traces')).toBe(25);
    expect(await exporter.drainSpool()).toBe(0);
    expect(await count(client, 'spool.otel_traces')).toBe(25);
  });

  it('re-drives spool files left by an earlier run on start, skipping rows a crash left already stored', async () => {
    const first = await startExporter('leftover', false, { retry_on_failure: FAST_RETRY });
    await takeOffline('leftover');
    await first.exporter.export('traces', deliveries([spans(10, 3)]));
    await first.exporter.export('traces', deliveries([spans(15, 4)]));
    await stop(first.exporter);
    const spoolDir = path.join(dataDir, 'leftover', 'spool');
    const files = readdirSync(spoolDir).sort();
    expect(files).toHaveLength(2);

    const backup = path.join(dataDir, 'leftover-first-file.jsonl');
    copyFileSync(path.join(spoolDir, files[0]!), backup);

    await bringBack('leftover');
    const second = await startExporter('leftover', false);
    await second.exporter.drainSpool();
    expect(second.exporter.spooledBatches()).toBe(0);
    expect(await count(client, 'leftover.otel_traces')).toBe(25);
    await stop(second.exporter);

    // A crash between a re-drive's insert and its delete leaves the file behind: put it back.
    copyFileSync(backup, path.join(spoolDir, files[0]!));
    const third = await startExporter('leftover', false);
    await third.exporter.drainSpool();
    expect(third.exporter.spooledBatches()).toBe(0);
    expect(await count(client, 'leftover.otel_traces')).toBe(25);
    expect(metricValue(third.ctx.metrics, 'agentotel_clickhouse_duplicate_rows_dropped_total{exporter="clickhouse",table="leftover.otel_traces"}')).toBe(10);
  });

  it('durable bus: rejects after max_elapsed_time so offsets stay uncommitted, spools nothing, and the redelivery lands once', async () => {
    const { exporter } = await startExporter('durable', true, { retry_on_failure: FAST_RETRY });
    const batch = deliveries([spans(12, 5), spans(8, 6)]);
    await takeOffline('durable');
    await expect(exporter.export('traces', batch)).rejects.toThrow(/durable\.otel_traces/);
    expect(exporter.spooledBatches()).toBe(0);
    await bringBack('durable');
    await exporter.export('traces', batch);
    expect(await count(client, 'durable.otel_traces')).toBe(20);
  });

  it('HTTP transport: a ClickHouse endpoint that is down is retried, then spooled (embedded) or rejected (durable bus)', async () => {
    const port = await closedPort();
    const http = { endpoint: `http://127.0.0.1:${port}`, create_schema: false, retry_on_failure: FAST_RETRY };
    const ctx = testContext(path.join(dataDir, 'http-embedded'), false);
    const config = parseConfig(new Fields(http, 'exporters.clickhouse'));

    const probe = createClickHouseClient(config.connection, ctx);
    const ping = await probe.ping();
    expect(ping.success).toBe(false);
    expect(!ping.success && String(ping.error)).toMatch(/ECONNREFUSED/);
    await probe.close();

    const embedded = new ClickHouseExporter(config, ctx);
    await embedded.start();
    running.add(embedded);
    await embedded.export('traces', deliveries([spans(5, 7)]));
    expect(embedded.spooledBatches()).toBe(1);
    expect(metricValue(ctx.metrics, 'agentotel_clickhouse_retries_total{exporter="clickhouse"}')).toBeGreaterThanOrEqual(1);
    await stop(embedded);

    const durableCtx = testContext(path.join(dataDir, 'http-durable'), true);
    const durable = new ClickHouseExporter(config, durableCtx);
    await durable.start();
    running.add(durable);
    await expect(durable.export('traces', deliveries([spans(5, 8)]))).rejects.toThrow(/ECONNREFUSED/);
    expect(durable.spooledBatches()).toBe(0);
    await stop(durable);
  });
});
