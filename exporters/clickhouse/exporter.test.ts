import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJson, decodeProtobuf, encodeProtobuf } from '../../core/otlp/codec.ts';
import type { LogsData, MetricsData, TracesData } from '../../core/otlp/model.ts';
import { createClickHouseClient, queryRows, type ClickHouseClient } from './client.ts';
import { ClickHouseExporter } from './exporter.ts';
import { count, deliveries, metricValue, testConfig, testContext, testDataDir } from './test-support.ts';

const dataDir = testDataDir('exporter');
const enginePath = path.join(dataDir, 'engine');
let client: ClickHouseClient;
const running: ClickHouseExporter[] = [];

beforeAll(() => {
  client = createClickHouseClient(testConfig(enginePath, {}).connection, { dataDir, configDir: dataDir });
});
afterAll(async () => {
  for (const e of running) await e.shutdown();
  await client.close();
});

async function startExporter(database: string, raw: Record<string, unknown> = {}) {
  const ctx = testContext(path.join(dataDir, database), false);
  const exporter = new ClickHouseExporter(testConfig(enginePath, { database, ...raw }), ctx);
  await exporter.start();
  running.push(exporter);
  return { exporter, ctx };
}

/** Like a bus message: OTLP JSON decoded, then through protobuf and back. */
function fixtureTraces(): TracesData {
  const json = decodeJson('traces', readFileSync(new URL('./testdata/traces.json', import.meta.url), 'utf8'));
  return decodeProtobuf('traces', encodeProtobuf('traces', json));
}

function spans(n: number, traceSeed: number, startNs = 1_700_000_000_000_000_000n): TracesData {
  const traceId = traceSeed.toString(16).padStart(32, '0');
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bulk' } }] },
      scopeSpans: [{
        spans: Array.from({ length: n }, (_, i) => ({
          traceId,
          spanId: (i + 1).toString(16).padStart(16, '0'),
          name: `span ${i % 7}`,
          kind: 1,
          startTimeUnixNano: String(startNs + BigInt(i)),
          endTimeUnixNano: String(startNs + BigInt(i) + 1_000n),
          attributes: [{ key: 'i', value: { intValue: String(i) } }],
        })),
      }],
    }],
  };
}

const insertCount = (ctx: ReturnType<typeof testContext>, table: string) =>
  metricValue(ctx.metrics, `agentotel_clickhouse_insert_duration_seconds_count{exporter="clickhouse",table="${table}"}`);

describe('clickhouse exporter on the embedded engine', () => {
  it('writes spans with the exact values the contrib exporter writes', async () => {
    const { exporter } = await startExporter('exact', { batch: { timeout: '10ms' } });
    await exporter.export('traces', deliveries([fixtureTraces()]));

    const rows = await queryRows<Record<string, unknown>>(
      client,
      `SELECT toString(Timestamp) AS ts, toString(toUnixTimestamp64Nano(Timestamp)) AS ns, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
              ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, toString(Duration) AS Duration, StatusCode, StatusMessage,
              arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS EventTimes, Events.Name, Events.Attributes,
              Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes
       FROM exact.otel_traces ORDER BY Timestamp`,
    );
    expect(rows).toEqual([
      {
        ts: '2023-11-14 22:13:20.123456789',
        ns: '1700000000123456789',
        TraceId: '5b8efff798038103d269b633813fc60c',
        SpanId: 'eee19b7ec3c1b174',
        ParentSpanId: '',
        TraceState: '',
        SpanName: 'invoke_agent',
        SpanKind: 'Server',
        ServiceName: 'claude-code',
        ResourceAttributes: { 'service.name': 'claude-code', team: 'platform', 'host.cpus': '8' },
        ScopeName: 'agentotel.test',
        ScopeVersion: '1.2.3',
        SpanAttributes: { 'gen_ai.usage.input_tokens': '1234', 'gen_ai.request.temperature': '0.25', cached: 'true', tools: '["Bash","Read"]' },
        Duration: '5864197532',
        StatusCode: 'Error',
        StatusMessage: 'tool failed',
        EventTimes: ['1700000001000000001', '1700000002000000002'],
        'Events.Name': ['prompt', 'done'],
        'Events.Attributes': [{ 'prompt.id': 'p-1' }, {}],
        'Links.TraceId': ['0af7651916cd43dd8448eb211c80319c'],
        'Links.SpanId': ['b7ad6b7169203331'],
        'Links.TraceState': ['vendor=1'],
        'Links.Attributes': [{ 'link.kind': 'resume' }],
      },
      {
        ts: '2023-11-14 22:13:20.999999999',
        ns: '1700000000999999999',
        TraceId: '5b8efff798038103d269b633813fc60c',
        SpanId: '00f067aa0ba902b7',
        ParentSpanId: 'eee19b7ec3c1b174',
        TraceState: 'k=v',
        SpanName: 'execute_tool Bash',
        SpanKind: 'Client',
        ServiceName: 'claude-code',
        ResourceAttributes: { 'service.name': 'claude-code', team: 'platform', 'host.cpus': '8' },
        ScopeName: 'agentotel.test',
        ScopeVersion: '1.2.3',
        SpanAttributes: {},
        Duration: '1',
        StatusCode: 'Ok',
        StatusMessage: '',
        EventTimes: [],
        'Events.Name': [],
        'Events.Attributes': [],
        'Links.TraceId': [],
        'Links.SpanId': [],
        'Links.TraceState': [],
        'Links.Attributes': [],
      },
    ]);
    // The materialized view fills the trace id -> time range lookup.
    const [lookup] = await queryRows<{ s: string; e: string }>(client, "SELECT toString(min(Start)) AS s, toString(max(End)) AS e FROM exact.otel_traces_trace_id_ts WHERE TraceId = '5b8efff798038103d269b633813fc60c'");
    expect(lookup).toEqual({ s: '2023-11-14 22:13:20', e: '2023-11-14 22:13:20' });
  });

  it('writes log records in the contrib layout', async () => {
    const { exporter } = await startExporter('logs', { batch: { timeout: '10ms' } });
    const logs: LogsData = {
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }, { key: 'team', value: { stringValue: 'a' } }] },
        schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
        scopeLogs: [{
          scope: { name: 'com.anthropic.claude_code.events', version: '2.0.1', attributes: [{ key: 's', value: { boolValue: false } }] },
          schemaUrl: 'https://scope/schema',
          logRecords: [
            {
              timeUnixNano: '1700000000000000007',
              observedTimeUnixNano: '1700000000500000000',
              severityNumber: 9,
              severityText: 'INFO',
              body: { stringValue: 'claude_code.api_request' },
              attributes: [{ key: 'cost_usd', value: { doubleValue: 0.0123 } }, { key: 'input_tokens', value: { intValue: '42' } }],
              flags: 0x101,
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b174',
              eventName: 'api_request',
            },
            { observedTimeUnixNano: '1700000000900000001', body: { kvlistValue: { values: [{ key: 'k', value: { intValue: '1' } }] } } },
          ],
        }],
      }],
    };
    await exporter.export('logs', deliveries([logs], 'agentotel.logs.received'));
    const rows = await queryRows<Record<string, unknown>>(
      client,
      `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, toString(TimestampTime) AS tt, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body,
              ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, LogAttributes, EventName
       FROM logs.otel_logs ORDER BY Timestamp`,
    );
    expect(rows).toEqual([
      {
        ns: '1700000000000000007', tt: '2023-11-14 22:13:20', TraceId: '5b8efff798038103d269b633813fc60c', SpanId: 'eee19b7ec3c1b174', TraceFlags: 1,
        SeverityText: 'INFO', SeverityNumber: 9, ServiceName: 'claude-code', Body: 'claude_code.api_request',
        ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.27.0', ResourceAttributes: { 'service.name': 'claude-code', team: 'a' },
        ScopeSchemaUrl: 'https://scope/schema', ScopeName: 'com.anthropic.claude_code.events', ScopeVersion: '2.0.1', ScopeAttributes: { s: 'false' },
        LogAttributes: { cost_usd: '0.0123', input_tokens: '42' }, EventName: 'api_request',
      },
      {
        ns: '1700000000900000001', tt: '2023-11-14 22:13:20', TraceId: '', SpanId: '', TraceFlags: 0,
        SeverityText: '', SeverityNumber: 0, ServiceName: 'claude-code', Body: '{"k":1}',
        ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.27.0', ResourceAttributes: { 'service.name': 'claude-code', team: 'a' },
        ScopeSchemaUrl: 'https://scope/schema', ScopeName: 'com.anthropic.claude_code.events', ScopeVersion: '2.0.1', ScopeAttributes: { s: 'false' },
        LogAttributes: {}, EventName: '',
      },
    ]);
  });

  it('writes every metric point type to its table', async () => {
    const { exporter, ctx } = await startExporter('metrics', { batch: { timeout: '10ms' } });
    const t0 = '1700000000000000001';
    const t1 = '1700000060000000002';
    const attrs = [{ key: 'model', value: { stringValue: 'claude-sonnet-4' } }];
    const metrics: MetricsData = {
      resourceMetrics: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
        schemaUrl: 'res-schema',
        scopeMetrics: [{
          scope: { name: 'com.anthropic.claude_code', version: '2.0.1', droppedAttributesCount: 3 },
          schemaUrl: 'scope-schema',
          metrics: [
            { name: 'claude_code.session.count', unit: '1', gauge: { dataPoints: [{ attributes: attrs, startTimeUnixNano: t0, timeUnixNano: t1, asInt: '3', flags: 1,
              exemplars: [{ timeUnixNano: t1, asDouble: 2.5, traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', filteredAttributes: [{ key: 'x', value: { stringValue: 'y' } }] }, { timeUnixNano: t0, asInt: '7' }] }] } },
            { name: 'claude_code.cost.usage', description: 'Cost', unit: 'USD', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ attributes: attrs, startTimeUnixNano: t0, timeUnixNano: t1, asDouble: 0.75 }, { attributes: [], startTimeUnixNano: t0, timeUnixNano: t1, asDouble: NaN }] } },
            { name: 'latency', histogram: { aggregationTemporality: 2, dataPoints: [{ startTimeUnixNano: t0, timeUnixNano: t1, count: '18446744073709551615', sum: 12.5, bucketCounts: ['1', '18446744073709551614'], explicitBounds: [0.5], min: 0.1, max: 9 }] } },
            { name: 'sizes', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{ startTimeUnixNano: t0, timeUnixNano: t1, count: '6', sum: 30, scale: 3, zeroCount: '1', positive: { offset: -2, bucketCounts: ['2', '3'] }, negative: { offset: 1, bucketCounts: ['0'] }, min: 0, max: 10 }] } },
            { name: 'rtt', summary: { dataPoints: [{ startTimeUnixNano: t0, timeUnixNano: t1, count: '4', sum: 2, quantileValues: [{ quantile: 0.5, value: 0.4 }, { quantile: 0.99, value: 0.9 }] }] } },
            { name: 'no data' },
          ],
        }],
      }],
    };
    await exporter.export('metrics', deliveries([metrics], 'agentotel.metrics.received'));
    const common = "ServiceName, MetricName, MetricDescription, MetricUnit, Attributes, toString(toUnixTimestamp64Nano(StartTimeUnix)) AS st, toString(toUnixTimestamp64Nano(TimeUnix)) AS t";
    const head = { ServiceName: 'claude-code', st: t0, t: t1 };
    expect(await queryRows(client, `SELECT ${common}, Value, Flags, ResourceSchemaUrl, ScopeName, ScopeVersion, ScopeDroppedAttrCount, ScopeSchemaUrl, Exemplars.FilteredAttributes,
      arrayMap(x -> toString(toUnixTimestamp64Nano(x)), Exemplars.TimeUnix) AS et, Exemplars.Value, Exemplars.SpanId, Exemplars.TraceId FROM metrics.otel_metrics_gauge`)).toEqual([{
      ...head, MetricName: 'claude_code.session.count', MetricDescription: '', MetricUnit: '1', Attributes: { model: 'claude-sonnet-4' }, Value: 3, Flags: 1,
      ResourceSchemaUrl: 'res-schema', ScopeName: 'com.anthropic.claude_code', ScopeVersion: '2.0.1', ScopeDroppedAttrCount: 3, ScopeSchemaUrl: 'scope-schema',
      'Exemplars.FilteredAttributes': [{ x: 'y' }, {}], et: [t1, t0], 'Exemplars.Value': [2.5, 7],
      'Exemplars.SpanId': ['eee19b7ec3c1b174', '0000000000000000'], 'Exemplars.TraceId': ['5b8efff798038103d269b633813fc60c', '00000000000000000000000000000000'],
    }]);
    expect(await queryRows(client, `SELECT ${common}, toString(Value) AS v, AggregationTemporality, IsMonotonic FROM metrics.otel_metrics_sum ORDER BY v`)).toEqual([
      { ...head, MetricName: 'claude_code.cost.usage', MetricDescription: 'Cost', MetricUnit: 'USD', Attributes: { model: 'claude-sonnet-4' }, v: '0.75', AggregationTemporality: 1, IsMonotonic: true },
      { ...head, MetricName: 'claude_code.cost.usage', MetricDescription: 'Cost', MetricUnit: 'USD', Attributes: {}, v: 'nan', AggregationTemporality: 1, IsMonotonic: true },
    ]);
    expect(await queryRows(client, `SELECT ${common}, toString(Count) AS c, Sum, arrayMap(x -> toString(x), BucketCounts) AS b, ExplicitBounds, Min, Max, AggregationTemporality FROM metrics.otel_metrics_histogram`)).toEqual([
      { ...head, MetricName: 'latency', MetricDescription: '', MetricUnit: '', Attributes: {}, c: '18446744073709551615', Sum: 12.5, b: ['1', '18446744073709551614'], ExplicitBounds: [0.5], Min: 0.1, Max: 9, AggregationTemporality: 2 },
    ]);
    expect(await queryRows(client, `SELECT MetricName, toString(Count) AS c, Sum, Scale, toString(ZeroCount) AS z, PositiveOffset, PositiveBucketCounts, NegativeOffset, NegativeBucketCounts, Min, Max FROM metrics.otel_metrics_exponential_histogram`)).toEqual([
      { MetricName: 'sizes', c: '6', Sum: 30, Scale: 3, z: '1', PositiveOffset: -2, PositiveBucketCounts: [2, 3], NegativeOffset: 1, NegativeBucketCounts: [0], Min: 0, Max: 10 },
    ]);
    expect(await queryRows(client, `SELECT MetricName, toString(Count) AS c, Sum, ValueAtQuantiles.Quantile AS q, ValueAtQuantiles.Value AS v FROM metrics.otel_metrics_summary`)).toEqual([
      { MetricName: 'rtt', c: '4', Sum: 2, q: [0.5, 0.99], v: [0.4, 0.9] },
    ]);
    expect(metricValue(ctx.metrics, 'agentotel_clickhouse_rows_written_total{exporter="clickhouse",table="metrics.otel_metrics_sum"}')).toBe(2);
  });

  it('flushes when batch.max_size rows are pending, without waiting for the timeout', async () => {
    const { exporter, ctx } = await startExporter('bysize', { batch: { max_size: 100, timeout: '1h' } });
    const started = performance.now();
    await exporter.export('traces', deliveries([spans(60, 1), spans(40, 2)]));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await count(client, 'bysize.otel_traces')).toBe(100);
    expect(insertCount(ctx, 'bysize.otel_traces')).toBe(1);
  });

  it('flushes a smaller batch after batch.timeout', async () => {
    const { exporter } = await startExporter('bytime', { batch: { max_size: 10_000, timeout: '300ms' } });
    const started = performance.now();
    const done = exporter.export('traces', deliveries([spans(5, 3)]));
    await new Promise((r) => setTimeout(r, 100));
    expect(await count(client, 'bytime.otel_traces')).toBe(0);
    await done;
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(await count(client, 'bytime.otel_traces')).toBe(5);
  });

  it('groups concurrent export calls into one insert per table, and each call resolves with it', async () => {
    const { exporter, ctx } = await startExporter('grouped', { batch: { max_size: 10_000, timeout: '200ms' } });
    const calls = Array.from({ length: 8 }, (_, i) => exporter.export('traces', deliveries([spans(10, 100 + i)], 't', 0, i)));
    await Promise.all(calls);
    expect(await count(client, 'grouped.otel_traces')).toBe(80);
    expect(insertCount(ctx, 'grouped.otel_traces')).toBe(1);
  });

  it('loses no rows across consecutive identical inserts, even after a dedup token was set on the shared engine', async () => {
    const { exporter } = await startExporter('noloss', { batch: { max_size: 1, timeout: '10ms' } });
    // chdb keeps per-query settings for later queries: a token set by anyone must not dedup our inserts.
    await client.command({ query: 'CREATE TABLE IF NOT EXISTS noloss.probe (x UInt8) ENGINE = MergeTree ORDER BY x' });
    await client.insert({ table: 'noloss.probe', values: [{ x: 1 }], format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'leaked' } });
    const same = spans(20, 7);
    for (let i = 0; i < 5; i++) await exporter.export('traces', deliveries([same]));
    expect(await count(client, 'noloss.otel_traces')).toBe(100);
  });

  it('rejects a record it cannot map with an error that names the field', async () => {
    const { exporter } = await startExporter('badinput', { batch: { timeout: '10ms' } });
    const bad = spans(2, 9);
    bad.resourceSpans![0]!.scopeSpans![0]!.spans![1]!.endTimeUnixNano = '12:30';
    await expect(exporter.export('traces', deliveries([bad]))).rejects.toThrow('resourceSpans[0].scopeSpans[0].spans[1].endTimeUnixNano: must be an unsigned integer (got "12:30")');
    expect(await count(client, 'badinput.otel_traces')).toBe(0);
  });

  it('measures insert throughput through the exporter', async () => {
    const { exporter } = await startExporter('throughput', { batch: { max_size: 10_000, timeout: '50ms' } });
    const batches = Array.from({ length: 10 }, (_, b) => spans(10_000, 1_000 + b));
    const started = performance.now();
    for (const data of batches) await exporter.export('traces', deliveries([data]));
    const seconds = (performance.now() - started) / 1_000;
    expect(await count(client, 'throughput.otel_traces')).toBe(100_000);
    console.log(`clickhouse exporter throughput (chdb): ${Math.round(100_000 / seconds)} rows/s`);
  });
});
