/**
 * The real OpenTelemetry JS SDK exporters (gRPC, HTTP/protobuf, HTTP/JSON, each with and
 * without gzip) send spans; exactly those spans, with their ids, attributes and resource,
 * reach the next consumer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { anyValueToJs } from '../../core/otlp/attributes.ts';
import type { Span, TracesData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { createSdkTracer, createSpanExporter, emitSpans, type EmittedSpan, type OtlpProtocol } from '../../test/helpers/otel-sdk.ts';
import { EPHEMERAL, startTestReceiver, type TestReceiver } from './test-harness.ts';

const attributesOf = (span: Span) => Object.fromEntries((span.attributes ?? []).map((kv) => [kv.key, anyValueToJs(kv.value)]));

function arrivedSpans(batches: TracesData[]) {
  return batches.flatMap((b) => [...eachSpan(b)]);
}

function expectArrived(batches: TracesData[], emitted: EmittedSpan[], resource: Record<string, string>): void {
  const arrived = arrivedSpans(batches);
  expect(arrived).toHaveLength(emitted.length);
  const bySpanId = new Map(arrived.map((a) => [a.span.spanId, a]));
  expect(bySpanId.size).toBe(emitted.length);
  for (const e of emitted) {
    const a = bySpanId.get(e.spanId);
    expect(a, `span ${e.name}`).toBeDefined();
    expect(a!.span.traceId).toBe(e.traceId);
    expect(a!.span.name).toBe(e.name);
    expect(a!.span.parentSpanId || undefined).toBe(e.parentSpanId);
    expect(attributesOf(a!.span)).toEqual(e.attributes);
    expect(a!.span.events?.[0]?.name).toBe('checkpoint');
    const resourceAttributes = Object.fromEntries((a!.resource?.attributes ?? []).map((kv) => [kv.key, anyValueToJs(kv.value)]));
    expect(resourceAttributes).toMatchObject(resource);
    expect(a!.scope?.name).toBe('agentotel-test');
  }
}

const protocols: OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

describe('OTLP receiver with the OpenTelemetry JS SDK exporters', () => {
  let rx: TestReceiver;
  beforeAll(async () => {
    rx = await startTestReceiver();
  });
  afterAll(() => rx.stop());

  for (const protocol of protocols) {
    for (const gzip of [false, true]) {
      it(`receives spans over ${protocol}${gzip ? ' with gzip' : ''}`, async () => {
        rx.received.traces.length = 0;
        const endpoint = protocol === 'grpc' ? rx.grpc : rx.http;
        const resource = { team: 'platform', 'service.name': `svc-${protocol}-${gzip}` };
        const sdk = createSdkTracer({ protocol, endpoint, gzip, resource, maxExportBatchSize: 100 });
        const transport = protocol === 'grpc' ? 'grpc' : 'http';
        const acceptedBefore = rx.metrics.counter('agentotel_receiver_accepted_spans_total', '').get({ receiver: 'otlp', transport });
        const emitted = emitSpans(sdk.tracer, 250, `${protocol}-${gzip}`);
        await sdk.shutdown();
        expectArrived(rx.received.traces, emitted, resource);
        expect(rx.received.traces.length).toBeGreaterThanOrEqual(3); // batches of 100
        const acceptedAfter = rx.metrics.counter('agentotel_receiver_accepted_spans_total', '').get({ receiver: 'otlp', transport });
        expect(acceptedAfter - acceptedBefore).toBe(250);
      });
    }
  }
});

describe('OTLP receiver authentication with the SDK exporters', () => {
  let rx: TestReceiver;
  beforeAll(async () => {
    rx = await startTestReceiver({ ...EPHEMERAL, auth: { tokens: ['first-token', 's3cret-ingest-token'] } });
  });
  afterAll(() => rx.stop());

  for (const protocol of protocols) {
    it(`accepts a configured bearer token and refuses a wrong one over ${protocol}`, async () => {
      rx.received.traces.length = 0;
      const endpoint = protocol === 'grpc' ? rx.grpc : rx.http;
      const good = createSdkTracer({ protocol, endpoint, token: 's3cret-ingest-token' });
      const emitted = emitSpans(good.tracer, 5, 'authorized');
      await good.shutdown();
      expectArrived(rx.received.traces, emitted, {});

      rx.received.traces.length = 0;
      const wrong = createSpanExporter({ protocol, endpoint, token: 'not-the-token' });
      const result = await exportOnce(wrong, emitSpansToMemory(3));
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(String(result.error)).toMatch(protocol === 'grpc' ? /UNAUTHENTICATED|16/ : /401|Unauthorized/);
      expect(rx.received.traces).toHaveLength(0);
    });
  }
});

describe('OTLP receiver when the pipeline refuses data', () => {
  let rx: TestReceiver;
  beforeAll(async () => {
    rx = await startTestReceiver();
  });
  afterAll(() => rx.stop());

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`answers 503 + Retry-After and the ${protocol} exporter's retry then succeeds`, async () => {
      rx.received.traces.length = 0;
      rx.refuseNext(1);
      const exporter = createSpanExporter({ protocol, endpoint: rx.http });
      const spans = emitSpansToMemory(7);
      const started = Date.now();
      const result = await exportOnce(exporter, spans);
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900); // waited for Retry-After: 1
      expect(arrivedSpans(rx.received.traces).map((a) => a.span.spanId).sort()).toEqual(spans.map((s) => s.spanContext().spanId).sort());
      expect(rx.metrics.counter('agentotel_receiver_refused_spans_total', '').get({ receiver: 'otlp', transport: 'http' })).toBeGreaterThanOrEqual(7);
      await exporter.shutdown();
    });
  }

  it('answers UNAVAILABLE over gRPC (the JS gRPC exporter does not retry it) and accepts the next export', async () => {
    rx.received.traces.length = 0;
    rx.refuseNext(1);
    const exporter = createSpanExporter({ protocol: 'grpc', endpoint: rx.grpc });
    const spans = emitSpansToMemory(4);
    const refused = await exportOnce(exporter, spans);
    expect(refused.code).toBe(ExportResultCode.FAILED);
    expect((refused.error as { code?: number }).code).toBe(14); // UNAVAILABLE
    expect(rx.received.traces).toHaveLength(0);
    const retried = await exportOnce(exporter, spans);
    expect(retried.code).toBe(ExportResultCode.SUCCESS);
    expect(arrivedSpans(rx.received.traces)).toHaveLength(4);
    await exporter.shutdown();
  });
});

// ── helpers: ended SDK spans held in memory, exported with one explicit call ────────────

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];
/** ExportResultCode of @opentelemetry/core (not a direct dependency of this project). */
const ExportResultCode = { SUCCESS: 0, FAILED: 1 } as const;

function emitSpansToMemory(n: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  emitSpans(provider.getTracer('agentotel-test'), n, 'memory');
  return memory.getFinishedSpans();
}

function exportOnce(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}
