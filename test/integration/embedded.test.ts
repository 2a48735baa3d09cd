/**
 * Embedded mode end to end: the real OpenTelemetry JS SDK sends spans over OTLP/gRPC,
 * HTTP/protobuf and HTTP/JSON to `runEmbedded` with the default config; exactly N rows land
 * in the embedded ClickHouse engine, processed by every stage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig, runEmbedded, type RunningService } from '../../service/service.ts';
import { createSdkTracer, emitSpans, type EmittedSpan, type OtlpProtocol } from '../helpers/otel-sdk.ts';
import { count, defaultConfigFile, embeddedClient, INGEST_TOKEN, pipelineEnv, tempDir } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';
import { queryRows, type ClickHouseClient } from '../../exporters/clickhouse/index.ts';

const N = 12_000;
const dataDir = tempDir('embedded');
let service: RunningService;
let client: ClickHouseClient;
const emitted: EmittedSpan[] = [];

beforeAll(async () => {
  const config = await loadServiceConfig(defaultConfigFile, pipelineEnv(dataDir));
  service = await runEmbedded(config);
  client = embeddedClient(dataDir);
});

afterAll(async () => {
  await service?.stop();
  await client?.close();
});

describe('embedded mode', () => {
  it(`stores exactly ${N} spans sent by the OTel SDK over gRPC, HTTP/protobuf and HTTP/JSON`, async () => {
    const protocols: OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];
    await Promise.all(
      protocols.map(async (protocol, i) => {
        const endpoint = protocol === 'grpc' ? service.endpoints['otlp.grpc']! : service.endpoints['otlp.http']!;
        const sdk = createSdkTracer({ protocol, endpoint, token: INGEST_TOKEN, gzip: i === 1, resource: { team: `team-${i}` } });
        emitted.push(...emitSpans(sdk.tracer, N / protocols.length, protocol));
        await sdk.flush();
        await sdk.shutdown();
      }),
    );
    const rows = await waitFor(
      () => count(client, 'SELECT count() AS n FROM agentotel.otel_traces'),
      (n) => n >= N,
      60_000,
      `${N} rows`,
    );
    // Nothing more arrives later: the count stays at exactly N.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await count(client, 'SELECT count() AS n FROM agentotel.otel_traces')).toBe(N);
    expect(rows).toBe(N);
    expect(await count(client, 'SELECT uniqExact(TraceId, SpanId) AS n FROM agentotel.otel_traces')).toBe(N);
  });

  it('keeps what the SDK sent and adds what each processor writes', async () => {
    const sample = emitted[N / 3 + 10]!; // an HTTP/protobuf span
    const [row] = await queryRows<{
      SpanName: string;
      ParentSpanId: string;
      ServiceName: string;
      team: string;
      label: string;
      tier: string;
      ev: string[];
    }>(
      client,
      `SELECT SpanName, ParentSpanId, ServiceName, ResourceAttributes['team'] AS team, SpanAttributes['test.label'] AS label,
              SpanAttributes['agentotel.redaction.tier'] AS tier, Events.Name AS ev
       FROM agentotel.otel_traces WHERE TraceId = {t:String} AND SpanId = {s:String}`,
      { t: sample.traceId, s: sample.spanId },
    );
    expect(row).toMatchObject({
      SpanName: sample.name,
      ParentSpanId: sample.parentSpanId ?? '',
      ServiceName: 'agentotel-test',
      team: 'team-1',
      label: sample.attributes['test.label'],
      tier: '2',
      ev: ['checkpoint'],
    });
  });

  it('serves /healthz and /metrics with per-stage counts', async () => {
    const health = await fetch(`http://${service.endpoints.telemetry}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://${service.endpoints.telemetry}/metrics`)).text();
    for (const stage of ['redaction', 'enrichment', 'dedupe']) {
      expect(metrics).toMatch(new RegExp(`agentotel_worker_consumed_spans_total\\{stage="${stage}"\\} ${N}\\b`));
    }
  });

  it('refuses spans without the ingest token', async () => {
    const res = await fetch(`http://${service.endpoints['otlp.http']}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
  });
});
