/**
 * Sending spans the way an instrumented application does: the real OpenTelemetry JS SDK
 * (BasicTracerProvider + BatchSpanProcessor) with one of its OTLP trace exporters.
 */
import { Metadata } from '@grpc/grpc-js';
import { type Attributes, context, type Context, SpanKind, SpanStatusCode, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** The values of OTEL_EXPORTER_OTLP_PROTOCOL. */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof GrpcTraceExporter>[0]>['compression']>;

export interface SdkExporterOptions {
  protocol: OtlpProtocol;
  /** host:port of the receiver (4317 for gRPC, 4318 for HTTP by convention). */
  endpoint: string;
  gzip?: boolean;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  timeoutMillis?: number;
}

export function createSpanExporter(options: SdkExporterOptions): SpanExporter {
  const compression = (options.gzip ? 'gzip' : 'none') as Compression;
  const timeoutMillis = options.timeoutMillis ?? 10_000;
  const authorization = options.token === undefined ? undefined : `Bearer ${options.token}`;
  if (options.protocol === 'grpc') {
    const metadata = new Metadata();
    if (authorization) metadata.set('authorization', authorization);
    return new GrpcTraceExporter({ url: `http://${options.endpoint}`, compression, metadata, timeoutMillis });
  }
  const config = {
    url: `http://${options.endpoint}/v1/traces`,
    compression,
    timeoutMillis,
    headers: authorization ? { authorization } : undefined,
  };
  return options.protocol === 'http/protobuf' ? new ProtoTraceExporter(config) : new JsonTraceExporter(config);
}

export interface SdkTracer {
  tracer: Tracer;
  /** Exports everything ended so far; rejects if the export failed. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export function createSdkTracer(options: SdkExporterOptions & { resource?: Attributes; maxExportBatchSize?: number }): SdkTracer {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'agentotel-test', ...options.resource }),
    spanProcessors: [
      new BatchSpanProcessor(createSpanExporter(options), {
        maxExportBatchSize: options.maxExportBatchSize ?? 512,
        maxQueueSize: 100_000,
        scheduledDelayMillis: 50,
      }),
    ],
  });
  return {
    tracer: provider.getTracer('agentotel-test', '1.0.0'),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** What a test expects to arrive for one emitted span (ids as lowercase hex). */
export interface EmittedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Attributes;
}

/**
 * Emits `count` spans with varied attributes (strings, ints, doubles, booleans, arrays,
 * unicode, a long value), every fifth one an error, every third one a child of its
 * predecessor.
 */
export function emitSpans(tracer: Tracer, count: number, prefix = 'span'): EmittedSpan[] {
  const emitted: EmittedSpan[] = [];
  for (let i = 0; i < count; i++) {
    const attributes: Attributes = {
      'test.index': i,
      'test.ratio': i + 0.25,
      'test.even': i % 2 === 0,
      'test.label': `${prefix}-${i} ✓ é`,
      'test.tags': ['a', `t${i % 7}`],
      ...(i % 10 === 0 ? { 'test.long': 'x'.repeat(2_000 + i) } : {}),
    };
    const parent = i % 3 === 2 ? emitted[i - 1] : undefined;
    const name = `${prefix} ${i}`;
    const span = tracer.startSpan(name, {
      kind: i % 2 ? SpanKind.CLIENT : SpanKind.INTERNAL,
      attributes,
    }, parent ? contextWithParent(parent) : undefined);
    if (i % 5 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `failure ${i}` });
    span.addEvent('checkpoint', { 'event.index': i });
    span.end();
    const ctx = span.spanContext();
    emitted.push({ traceId: ctx.traceId, spanId: ctx.spanId, parentSpanId: parent?.spanId, name, attributes });
  }
  return emitted;
}

function contextWithParent(parent: EmittedSpan): Context {
  return trace.setSpanContext(context.active(), { traceId: parent.traceId, spanId: parent.spanId, traceFlags: TraceFlags.SAMPLED });
}
