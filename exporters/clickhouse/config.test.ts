import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, Fields } from '../../core/config/fields.ts';
import { parseConfigText } from '../../core/config/load.ts';
import { parseConfig } from './config.ts';
import { renderTemplate, statements, templateVariables, ttlClause } from './migrations.ts';

const load = (file: string) => parseConfigText(readFileSync(new URL(`./testdata/${file}`, import.meta.url), 'utf8'), file, { CLICKHOUSE_PASSWORD: 's3cret' });
const parse = (raw: unknown) => parseConfig(new Fields(raw, 'exporters.clickhouse'));

function errorOf(raw: unknown): ConfigError {
  try {
    parse(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('clickhouse exporter config', () => {
  it('fills the defaults from an empty block', () => {
    const c = parse({});
    expect(c.connection).toEqual({ endpoint: 'embedded', path: undefined, username: 'default', password: '', timeoutMs: 5_000 });
    expect(c.schema).toEqual({
      database: 'default',
      tracesTable: 'otel_traces',
      logsTable: 'otel_logs',
      metricsTables: {
        gauge: 'otel_metrics_gauge',
        sum: 'otel_metrics_sum',
        summary: 'otel_metrics_summary',
        histogram: 'otel_metrics_histogram',
        exponential_histogram: 'otel_metrics_exponential_histogram',
      },
      ttlMs: 0,
      clusterName: '',
      tableEngine: { name: 'MergeTree', params: '' },
    });
    expect(c.createSchema).toBe(true);
    expect(c.batch).toEqual({ maxSize: 10_000, timeoutMs: 200 });
    expect(c.retry).toEqual({ enabled: true, initialIntervalMs: 1_000, maxIntervalMs: 30_000, maxElapsedMs: 30_000, multiplier: 1.5 });
    expect(c.spool).toEqual({ redriveIntervalMs: 5_000 });
  });

  it('reads every key of testdata/valid.yaml', () => {
    const c = parse(load('valid.yaml'));
    expect(c.connection).toEqual({ endpoint: 'http://clickhouse.example:8123', path: undefined, username: 'agentotel', password: 's3cret', timeoutMs: 10_000 });
    expect(c.schema.database).toBe('telemetry');
    expect(c.schema.metricsTables.exponential_histogram).toBe('m_exp_histogram');
    expect(c.schema.ttlMs).toBe(72 * 3_600_000);
    expect(c.schema.clusterName).toBe('agents');
    expect(c.schema.tableEngine).toEqual({ name: 'ReplicatedMergeTree', params: "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'" });
    expect(c.createSchema).toBe(false);
    expect(c.batch).toEqual({ maxSize: 5_000, timeoutMs: 200 });
    expect(c.retry).toEqual({ enabled: true, initialIntervalMs: 500, maxIntervalMs: 10_000, maxElapsedMs: 120_000, multiplier: 2 });
    expect(c.spool.redriveIntervalMs).toBe(1_000);
  });

  it('rejects testdata/invalid.yaml naming the key', () => {
    const err = errorOf(load('invalid.yaml'));
    expect(err.path).toBe('exporters.clickhouse.traces_table_name');
    expect(err.message).toMatch(/ClickHouse identifier/);
  });

  it.each([
    [{ endpoint: 'tcp://host:9000' }, 'exporters.clickhouse.endpoint', /tcp: protocol is not supported/],
    [{ endpoint: 'not a url' }, 'exporters.clickhouse.endpoint', /"embedded" or an http/],
    [{ endpoint: 'http://h:8123', path: '/data' }, 'exporters.clickhouse.path', /only used with endpoint: embedded/],
    [{ database: 'my-db' }, 'exporters.clickhouse.database', /identifier/],
    [{ metrics_tables: { gauge: { name: 'x y' } } }, 'exporters.clickhouse.metrics_tables.gauge.name', /identifier/],
    [{ metrics_tables: { histo: { name: 'h' } } }, 'exporters.clickhouse.metrics_tables.histo', /unknown key/],
    [{ ttl: 'forever' }, 'exporters.clickhouse.ttl', /duration/],
    [{ ttl: '1500ms' }, 'exporters.clickhouse.ttl', /whole number of seconds/],
    [{ cluster_name: 'a;b' }, 'exporters.clickhouse.cluster_name', /identifier/],
    [{ table_engine: { name: 'MergeTree', params: '); DROP TABLE t; --' } }, 'exporters.clickhouse.table_engine.params', /engine parameters only/],
    [{ batch: { max_size: 0 } }, 'exporters.clickhouse.batch.max_size', /at least 1/],
    [{ retry_on_failure: { initial_interval: '5s', max_interval: '1s' } }, 'exporters.clickhouse.retry_on_failure.max_interval', /at least initial_interval/],
    [{ retry_on_failure: { enabled: 'yes' } }, 'exporters.clickhouse.retry_on_failure.enabled', /true or false/],
    [{ spool: { redrive_interval: 0 } }, 'exporters.clickhouse.spool.redrive_interval', /greater than 0/],
    [{ compress: 'lz4' }, 'exporters.clickhouse.compress', /unknown key/],
  ])('rejects %j', (raw, path, problem) => {
    const err = errorOf(raw);
    expect(err.path).toBe(path);
    expect(err.message).toMatch(problem);
  });

  it('never puts the password in an error message', () => {
    const err = errorOf({ password: 'hunter2', endpoint: 'ftp://x' });
    expect(err.message).not.toContain('hunter2');
  });
});

describe('migration templates', () => {
  it('renders TTL clauses with the largest unit that divides the duration, like the contrib exporter', () => {
    expect(ttlClause(0, 'toDateTime(Timestamp)')).toBe('');
    expect(ttlClause(72 * 3_600_000, 'toDateTime(Timestamp)')).toBe('TTL toDateTime(Timestamp) + toIntervalDay(3)');
    expect(ttlClause(5 * 3_600_000, 'TimestampTime')).toBe('TTL TimestampTime + toIntervalHour(5)');
    expect(ttlClause(90 * 60_000, 'x')).toBe('TTL x + toIntervalMinute(90)');
    expect(ttlClause(61_000, 'x')).toBe('TTL x + toIntervalSecond(61)');
  });

  it('substitutes names, engine, cluster and TTL, and rejects unknown placeholders', () => {
    const vars = templateVariables({ ...parse({ cluster_name: 'c1', table_engine: { name: 'ReplicatedMergeTree', params: "'/p/{table}', '{replica}'" } }).schema });
    expect(renderTemplate('CREATE TABLE {{database}}.{{traces_table}} {{on_cluster}} ENGINE = {{engine}} {{ttl:toDateTime(Timestamp)}}', vars, 86_400_000)).toBe(
      "CREATE TABLE default.otel_traces ON CLUSTER c1 ENGINE = ReplicatedMergeTree('/p/{table}', '{replica}') TTL toDateTime(Timestamp) + toIntervalDay(1)",
    );
    expect(() => renderTemplate('{{tables}}', vars, 0)).toThrow(/unknown template placeholder \{\{tables\}\}/);
  });

  it('rejects names that are not identifiers even when the config was built by hand', () => {
    const schema = parse({}).schema;
    expect(() => templateVariables({ ...schema, logsTable: 'x`; DROP' })).toThrow(/logs_table/);
  });

  it('splits a file into statements at line-ending semicolons, dropping comment lines', () => {
    expect(statements('-- a comment; with a semicolon\nCREATE TABLE a (x String DEFAULT \';\');\n\nCREATE VIEW b AS SELECT 1;\n')).toEqual([
      "CREATE TABLE a (x String DEFAULT ';')",
      'CREATE VIEW b AS SELECT 1',
    ]);
  });
});
