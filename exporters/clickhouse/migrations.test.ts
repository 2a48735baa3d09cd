import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseClient, queryRows, type ClickHouseClient } from './client.ts';
import { loadMigrations, runMigrations } from './migrations.ts';
import { testConfig, testDataDir } from './test-support.ts';

const dataDir = testDataDir('migrations');
const enginePath = path.join(dataDir, 'engine');
let client: ClickHouseClient;

beforeAll(() => {
  client = createClickHouseClient(testConfig(enginePath, {}).connection, { dataDir, configDir: dataDir });
});
afterAll(async () => {
  await client.close();
});

async function columns(db: string, table: string): Promise<[string, string, string][]> {
  const rows = await queryRows<{ name: string; type: string; codec: string }>(
    client,
    'SELECT name, type, compression_codec AS codec FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY position',
    { db, table },
  );
  return rows.map((r) => [r.name, r.type, r.codec]);
}

async function createQuery(db: string, table: string): Promise<string> {
  const [row] = await queryRows<{ q: string }>(client, 'SELECT create_table_query AS q FROM system.tables WHERE database = {db:String} AND name = {table:String}', { db, table });
  return row?.q ?? '';
}

const MAP = 'Map(LowCardinality(String), String)';
const Z = 'CODEC(ZSTD(1))';
const DELTA_Z = 'CODEC(Delta(8), ZSTD(1))';

const TRACES: [string, string, string][] = [
  ['Timestamp', 'DateTime64(9)', DELTA_Z],
  ['TraceId', 'String', Z],
  ['SpanId', 'String', Z],
  ['ParentSpanId', 'String', Z],
  ['TraceState', 'String', Z],
  ['SpanName', 'LowCardinality(String)', Z],
  ['SpanKind', 'LowCardinality(String)', Z],
  ['ServiceName', 'LowCardinality(String)', Z],
  ['ResourceAttributes', MAP, Z],
  ['ScopeName', 'String', Z],
  ['ScopeVersion', 'String', Z],
  ['SpanAttributes', MAP, Z],
  ['Duration', 'UInt64', Z],
  ['StatusCode', 'LowCardinality(String)', Z],
  ['StatusMessage', 'String', Z],
  ['Events.Timestamp', 'Array(DateTime64(9))', Z],
  ['Events.Name', 'Array(LowCardinality(String))', Z],
  ['Events.Attributes', `Array(${MAP})`, Z],
  ['Links.TraceId', 'Array(String)', Z],
  ['Links.SpanId', 'Array(String)', Z],
  ['Links.TraceState', 'Array(String)', Z],
  ['Links.Attributes', `Array(${MAP})`, Z],
];

const LOGS: [string, string, string][] = [
  ['Timestamp', 'DateTime64(9)', DELTA_Z],
  ['TimestampTime', 'DateTime', ''],
  ['TraceId', 'String', Z],
  ['SpanId', 'String', Z],
  ['TraceFlags', 'UInt8', ''],
  ['SeverityText', 'LowCardinality(String)', Z],
  ['SeverityNumber', 'UInt8', ''],
  ['ServiceName', 'LowCardinality(String)', Z],
  ['Body', 'String', Z],
  ['ResourceSchemaUrl', 'LowCardinality(String)', Z],
  ['ResourceAttributes', MAP, Z],
  ['ScopeSchemaUrl', 'LowCardinality(String)', Z],
  ['ScopeName', 'String', Z],
  ['ScopeVersion', 'LowCardinality(String)', Z],
  ['ScopeAttributes', MAP, Z],
  ['LogAttributes', MAP, Z],
  ['EventName', 'String', Z],
];

const METRIC_HEAD: [string, string, string][] = [
  ['ResourceAttributes', MAP, Z],
  ['ResourceSchemaUrl', 'String', Z],
  ['ScopeName', 'String', Z],
  ['ScopeVersion', 'String', Z],
  ['ScopeAttributes', MAP, Z],
  ['ScopeDroppedAttrCount', 'UInt32', Z],
  ['ScopeSchemaUrl', 'String', Z],
  ['ServiceName', 'LowCardinality(String)', Z],
  ['MetricName', 'String', Z],
  ['MetricDescription', 'String', Z],
  ['MetricUnit', 'String', Z],
  ['Attributes', MAP, Z],
  ['StartTimeUnix', 'DateTime64(9)', DELTA_Z],
  ['TimeUnix', 'DateTime64(9)', DELTA_Z],
];
const EXEMPLARS: [string, string, string][] = [
  ['Exemplars.FilteredAttributes', `Array(${MAP})`, Z],
  ['Exemplars.TimeUnix', 'Array(DateTime64(9))', Z],
  ['Exemplars.Value', 'Array(Float64)', Z],
  ['Exemplars.SpanId', 'Array(String)', Z],
  ['Exemplars.TraceId', 'Array(String)', Z],
];
const FLAGS: [string, string, string] = ['Flags', 'UInt32', Z];
const MIN_MAX_TEMPORALITY: [string, string, string][] = [
  ['Min', 'Float64', Z],
  ['Max', 'Float64', Z],
  ['AggregationTemporality', 'Int32', Z],
];
const METRICS: Record<string, [string, string, string][]> = {
  otel_metrics_gauge: [...METRIC_HEAD, ['Value', 'Float64', Z], FLAGS, ...EXEMPLARS],
  otel_metrics_sum: [...METRIC_HEAD, ['Value', 'Float64', Z], FLAGS, ...EXEMPLARS, ['AggregationTemporality', 'Int32', Z], ['IsMonotonic', 'Bool', DELTA_Z.replace('Delta(8)', 'Delta(1)')]],
  otel_metrics_histogram: [
    ...METRIC_HEAD,
    ['Count', 'UInt64', DELTA_Z],
    ['Sum', 'Float64', Z],
    ['BucketCounts', 'Array(UInt64)', Z],
    ['ExplicitBounds', 'Array(Float64)', Z],
    ...EXEMPLARS,
    FLAGS,
    ...MIN_MAX_TEMPORALITY,
  ],
  otel_metrics_exponential_histogram: [
    ...METRIC_HEAD,
    ['Count', 'UInt64', DELTA_Z],
    ['Sum', 'Float64', Z],
    ['Scale', 'Int32', Z],
    ['ZeroCount', 'UInt64', Z],
    ['PositiveOffset', 'Int32', Z],
    ['PositiveBucketCounts', 'Array(UInt64)', Z],
    ['NegativeOffset', 'Int32', Z],
    ['NegativeBucketCounts', 'Array(UInt64)', Z],
    ...EXEMPLARS,
    FLAGS,
    ...MIN_MAX_TEMPORALITY,
  ],
  otel_metrics_summary: [
    ...METRIC_HEAD,
    ['Count', 'UInt64', DELTA_Z],
    ['Sum', 'Float64', Z],
    ['ValueAtQuantiles.Quantile', 'Array(Float64)', Z],
    ['ValueAtQuantiles.Value', 'Array(Float64)', Z],
    FLAGS,
  ],
};

describe('schema migrations on the embedded engine', () => {
  it('creates the database and every table in the contrib layout', async () => {
    const applied = await runMigrations(client, testConfig(enginePath, { database: 'contrib' }).schema);
    expect(applied).toEqual(loadMigrations().map((m) => m.version));

    expect(await columns('contrib', 'otel_traces')).toEqual(TRACES);
    expect(await columns('contrib', 'otel_logs')).toEqual(LOGS);
    for (const [table, expected] of Object.entries(METRICS)) expect(await columns('contrib', table), table).toEqual(expected);
    expect(await columns('contrib', 'otel_traces_trace_id_ts')).toEqual([
      ['TraceId', 'String', Z],
      ['Start', 'DateTime', DELTA_Z.replace('Delta(8)', 'Delta(4)')],
      ['End', 'DateTime', DELTA_Z.replace('Delta(8)', 'Delta(4)')],
    ]);

    const traces = await createQuery('contrib', 'otel_traces');
    for (const index of [
      'INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1',
      'INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
      'INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
      'INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
      'INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
      'INDEX idx_duration Duration TYPE minmax GRANULARITY 1',
    ]) expect(traces).toContain(index);
    expect(traces).toContain('ENGINE = MergeTree PARTITION BY toDate(Timestamp) ORDER BY (ServiceName, SpanName, toDateTime(Timestamp)) SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1');
    expect(traces).not.toContain('TTL');

    expect(await createQuery('contrib', 'otel_logs')).toContain(
      'PARTITION BY toDate(TimestampTime) PRIMARY KEY (ServiceName, TimestampTime) ORDER BY (ServiceName, TimestampTime, Timestamp) SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1',
    );
    expect(await createQuery('contrib', 'otel_logs')).toContain('INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8');
    expect(await createQuery('contrib', 'otel_metrics_sum')).toContain('PARTITION BY toDate(TimeUnix) ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))');
    const [mv] = await queryRows<{ q: string }>(client, "SELECT create_table_query AS q FROM system.tables WHERE database = 'contrib' AND name = 'otel_traces_trace_id_ts_mv'");
    expect(mv!.q).toMatch(/TO contrib\.otel_traces_trace_id_ts .*min\(Timestamp\) AS Start, max\(Timestamp\) AS End FROM contrib\.otel_traces WHERE TraceId != '' GROUP BY TraceId/);
  });

  it('is idempotent: a second run applies nothing and changes nothing', async () => {
    const schema = testConfig(enginePath, { database: 'twice' }).schema;
    expect((await runMigrations(client, schema)).length).toBe(loadMigrations().length);
    expect(await runMigrations(client, schema)).toEqual([]);
    const [row] = await queryRows<{ n: string }>(client, 'SELECT toString(count()) AS n FROM twice.agentotel_schema_migrations');
    expect(Number(row!.n)).toBe(loadMigrations().length);
  });

  it('applies configured table names, TTL and table engine', async () => {
    const schema = testConfig(enginePath, {
      database: 'custom',
      traces_table_name: 'spans',
      logs_table_name: 'events',
      metrics_tables: { gauge: { name: 'g' } },
      ttl: '72h',
      table_engine: { name: 'ReplacingMergeTree' },
    }).schema;
    await runMigrations(client, schema);
    const tables = (await queryRows<{ name: string }>(client, "SELECT name FROM system.tables WHERE database = 'custom' ORDER BY name")).map((r) => r.name);
    expect(tables).toEqual(
      ['agentotel_export_progress', 'agentotel_schema_migrations', 'events', 'g', 'otel_metrics_exponential_histogram', 'otel_metrics_histogram', 'otel_metrics_sum', 'otel_metrics_summary', 'spans', 'spans_trace_id_ts', 'spans_trace_id_ts_mv'].sort(),
    );
    expect(await createQuery('custom', 'spans')).toContain('ENGINE = ReplacingMergeTree PARTITION BY toDate(Timestamp) ORDER BY (ServiceName, SpanName, toDateTime(Timestamp)) TTL toDateTime(Timestamp) + toIntervalDay(3)');
    expect(await createQuery('custom', 'spans_trace_id_ts')).toContain('TTL toDateTime(Start) + toIntervalDay(3)');
    expect(await createQuery('custom', 'events')).toContain('TTL TimestampTime + toIntervalDay(3)');
    expect(await createQuery('custom', 'g')).toContain('TTL toDateTime(TimeUnix) + toIntervalDay(3)');
  });

  it('refuses a migration whose file changed after it was applied', async () => {
    const schema = testConfig(enginePath, { database: 'drift' }).schema;
    await runMigrations(client, schema);
    const changed = loadMigrations().map((m) => (m.version === 1 ? { ...m, checksum: 'edited' } : m));
    await expect(runMigrations(client, schema, changed)).rejects.toThrow(/migration 1 \(otel_traces\) changed after it was applied to drift/);
  });
});
