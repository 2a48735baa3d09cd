/**
 * agentotel instruments itself with the OpenTelemetry Node SDK: one span per batch at each
 * stage (publish, process, export), under service.name "agentotel" and the process's role.
 * Spans are exported over OTLP/gRPC to `service.telemetry.traces.endpoint` when set (for
 * example another collector, or this one's own receiver); without it they stay in-process.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { trace, SpanStatusCode, type Span } from '@opentelemetry/api';

let sdk: NodeSDK | undefined;

export function startSelfTelemetry(role: string, endpoint: string | undefined): void {
  if (sdk) return;
  sdk = new NodeSDK({
    resource: resourceFromAttributes({
      'service.name': 'agentotel',
      'agentotel.role': role,
      'service.instance.id': `${role}-${process.pid}`,
    }),
    traceExporter: endpoint ? new OTLPTraceExporter({ url: endpoint }) : undefined,
    instrumentations: [],
  });
  sdk.start();
}

export async function stopSelfTelemetry(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}

const tracer = () => trace.getTracer('agentotel');

/** Runs `work` inside a span named `name`; the span records failure and rethrows. */
export async function inSpan<T>(name: string, attributes: Record<string, string | number>, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
