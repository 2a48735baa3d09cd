/** Shared by this folder's tests: a temp data dir, an exporter context and config, row counts. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Delivery, ExporterContext } from '../../core/component.ts';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { queryRows, type ClickHouseClient } from './client.ts';
import { parseConfig, type ClickHouseExporterConfig } from './config.ts';

/** One temp dir per test file: the embedded engine binds one data directory per process. */
export function testDataDir(name: string): string {
  return mkdtempSync(path.join(tmpdir(), `agentotel-ch-${name}-`));
}

export function testContext(dataDir: string, durableBus: boolean, id = 'clickhouse'): ExporterContext {
  return { id, dataDir, configDir: dataDir, metrics: new MetricsRegistry(), durableBus };
}

/** Engine path shared by every exporter of the file; database per test keeps tests apart. */
export function testConfig(enginePath: string, raw: Record<string, unknown>): ClickHouseExporterConfig {
  return parseConfig(new Fields({ path: enginePath, ...raw }, 'exporters.clickhouse'));
}

export async function count(client: ClickHouseClient, table: string, where = '1'): Promise<number> {
  const [row] = await queryRows<{ n: string }>(client, `SELECT toString(count()) AS n FROM ${table} WHERE ${where}`);
  return Number(row!.n);
}

export function deliveries<T>(values: T[], topic = 'agentotel.traces.dedupe', partition = 0, firstOffset = 0): Delivery<T>[] {
  return values.map((value, i) => ({ value, topic, partition, offset: String(firstOffset + i) }));
}

/** Reads one sample of a metric family from the registry's text exposition. */
export function metricValue(registry: MetricsRegistry, sample: string): number {
  const line = registry.render().split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}
