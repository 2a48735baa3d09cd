/** Config of the clickhouse exporter: the contrib exporter's keys, plus batching, retries and the spool. */
import { Fields } from '../../core/config/fields.ts';

export const EMBEDDED = 'embedded';

/** Where the client connects: a ClickHouse server over HTTP, or the embedded engine on a data directory. */
export interface ConnectionConfig {
  /** "embedded" or an http(s)://host:8123 URL. */
  endpoint: string;
  /** Embedded engine data directory; undefined = <dataDir>/clickhouse, relative = against the config file. */
  path: string | undefined;
  username: string;
  password: string;
  /** HTTP request timeout in ms. */
  timeoutMs: number;
}

export interface MetricsTables {
  gauge: string;
  sum: string;
  summary: string;
  histogram: string;
  exponential_histogram: string;
}

export interface SchemaConfig {
  database: string;
  tracesTable: string;
  logsTable: string;
  metricsTables: MetricsTables;
  /** Retention in ms; 0 = no TTL. */
  ttlMs: number;
  clusterName: string;
  tableEngine: { name: string; params: string };
}

export interface RetryConfig {
  enabled: boolean;
  initialIntervalMs: number;
  maxIntervalMs: number;
  /** After this long a batch is spooled (embedded) or the export rejects (durable bus); 0 = retry forever. */
  maxElapsedMs: number;
  multiplier: number;
}

export interface ClickHouseExporterConfig {
  connection: ConnectionConfig;
  schema: SchemaConfig;
  createSchema: boolean;
  batch: { maxSize: number; timeoutMs: number };
  retry: RetryConfig;
  spool: { redriveIntervalMs: number };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

function identifier(fields: Fields, key: string, fallback: string): string {
  const v = fields.string(key, fallback);
  if (!isIdentifier(v)) fields.fail(key, `must be a ClickHouse identifier (letters, digits, _; got ${JSON.stringify(v)})`);
  return v;
}

function endpoint(fields: Fields): string {
  const v = fields.string('endpoint', EMBEDDED);
  if (v === EMBEDDED) return v;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    fields.fail('endpoint', `must be "embedded" or an http(s):// URL (got ${JSON.stringify(v)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fields.fail('endpoint', `must be "embedded" or an http(s):// URL; the ${url.protocol} protocol is not supported (got ${JSON.stringify(v)})`);
  }
  return v;
}

function metricsTables(fields: Fields): MetricsTables {
  const tables = fields.object('metrics_tables');
  const name = (type: keyof MetricsTables) => {
    const t = tables.object(type);
    const n = identifier(t, 'name', `otel_metrics_${type}`);
    t.done();
    return n;
  };
  const out: MetricsTables = {
    gauge: name('gauge'),
    sum: name('sum'),
    summary: name('summary'),
    histogram: name('histogram'),
    exponential_histogram: name('exponential_histogram'),
  };
  tables.done();
  return out;
}

function tableEngine(fields: Fields): { name: string; params: string } {
  const f = fields.object('table_engine');
  const name = identifier(f, 'name', 'MergeTree');
  const params = f.string('params', '');
  if (/[;\n\r]|--|\/\*/.test(params)) f.fail('params', 'must be engine parameters only (no ";", comments or line breaks)');
  f.done();
  return { name, params };
}

export function parseConfig(fields: Fields): ClickHouseExporterConfig {
  const connection: ConnectionConfig = {
    endpoint: endpoint(fields),
    path: fields.optionalString('path'),
    username: fields.string('username', 'default'),
    password: fields.string('password', ''),
    timeoutMs: fields.duration('timeout', 5_000),
  };
  if (connection.path !== undefined && connection.endpoint !== EMBEDDED) fields.fail('path', 'is only used with endpoint: embedded');

  const ttlMs = fields.duration('ttl', 0);
  if (ttlMs > 0 && ttlMs % 1_000 !== 0) fields.fail('ttl', 'must be a whole number of seconds');
  const schema: SchemaConfig = {
    database: identifier(fields, 'database', 'default'),
    tracesTable: identifier(fields, 'traces_table_name', 'otel_traces'),
    logsTable: identifier(fields, 'logs_table_name', 'otel_logs'),
    metricsTables: metricsTables(fields),
    ttlMs,
    clusterName: fields.has('cluster_name') ? identifier(fields, 'cluster_name', '') : (fields.raw('cluster_name'), ''),
    tableEngine: tableEngine(fields),
  };
  const createSchema = fields.bool('create_schema', true);

  const batchFields = fields.object('batch');
  const batch = {
    maxSize: batchFields.int('max_size', 10_000, { min: 1 }),
    timeoutMs: batchFields.duration('timeout', 200),
  };
  batchFields.done();

  const r = fields.object('retry_on_failure');
  const retry: RetryConfig = {
    enabled: r.bool('enabled', true),
    initialIntervalMs: r.duration('initial_interval', 1_000),
    maxIntervalMs: r.duration('max_interval', 30_000),
    maxElapsedMs: r.duration('max_elapsed_time', 30_000),
    multiplier: r.number('multiplier', 1.5, { min: 1 }),
  };
  if (retry.initialIntervalMs <= 0) r.fail('initial_interval', 'must be greater than 0');
  if (retry.maxIntervalMs < retry.initialIntervalMs) r.fail('max_interval', 'must be at least initial_interval');
  r.done();

  const s = fields.object('spool');
  const spool = { redriveIntervalMs: s.duration('redrive_interval', 5_000) };
  if (spool.redriveIntervalMs <= 0) s.fail('redrive_interval', 'must be greater than 0');
  s.done();

  fields.done();
  return { connection, schema, createSchema, batch, retry, spool };
}
