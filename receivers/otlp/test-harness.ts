/** Test support: an OTLP receiver on ephemeral ports whose next consumers record what arrives. */
import * as grpc from '@grpc/grpc-js';
import type { NextConsumers } from '../../core/component.ts';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { spanIdFor, traceIdFor } from '../../core/ids.ts';
import type { LogsData, MetricsData, Signal, SignalData, Span, TracesData } from '../../core/otlp/model.ts';
import { otlpReceiverFactory } from './index.ts';
import { exportServiceDefinition } from './grpc-server.ts';

export const EPHEMERAL = { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } };

export interface TestReceiver {
  received: { [S in Signal]: SignalData[S][] };
  metrics: MetricsRegistry;
  grpc: string;
  http: string;
  /** The next `n` hand-overs to the pipeline fail, as when the bus is down. */
  refuseNext(n: number, error?: Error): void;
  /** Hand-overs wait for this promise (to hold requests in flight). */
  holdNext(until: Promise<void>): void;
  stop(): Promise<void>;
}

export async function startTestReceiver(
  raw: Record<string, unknown> = EPHEMERAL,
  signals: Signal[] = ['traces', 'logs', 'metrics'],
): Promise<TestReceiver> {
  const metrics = new MetricsRegistry();
  const received: TestReceiver['received'] = { traces: [], logs: [], metrics: [] };
  let refusals = 0;
  let refusal = new Error('bus unavailable');
  let hold: Promise<void> = Promise.resolve();
  const consumer =
    <S extends Signal>(signal: S) =>
    async (data: SignalData[S]) => {
      await hold;
      if (refusals > 0) {
        refusals--;
        throw refusal;
      }
      received[signal].push(data);
    };
  const next: NextConsumers = {};
  if (signals.includes('traces')) next.traces = consumer('traces');
  if (signals.includes('logs')) next.logs = consumer('logs');
  if (signals.includes('metrics')) next.metrics = consumer('metrics');
  const config = otlpReceiverFactory.parseConfig(new Fields(raw, 'receivers.otlp'));
  const receiver = otlpReceiverFactory.create(config, { id: 'otlp', dataDir: '', configDir: '', metrics, next });
  await receiver.start();
  const endpoints = receiver.endpoints!();
  return {
    received,
    metrics,
    grpc: endpoints.grpc ?? '',
    http: endpoints.http ?? '',
    refuseNext: (n, error = new Error('bus unavailable')) => {
      refusals = n;
      refusal = error;
    },
    holdNext: (until) => void (hold = until),
    stop: () => receiver.shutdown(),
  };
}

export interface GrpcExportResult {
  error: grpc.ServiceError | null;
  response?: Buffer;
}

/** One Export call with a raw (already encoded) message, as any OTLP/gRPC client makes it. */
export function grpcExport(
  endpoint: string,
  signal: Signal,
  message: Uint8Array,
  options: { token?: string; gzip?: boolean } = {},
): Promise<GrpcExportResult> {
  const Client = grpc.makeGenericClientConstructor(exportServiceDefinition(signal), `${signal}-service`);
  const client = new Client(endpoint, grpc.credentials.createInsecure(), {
    'grpc.default_compression_algorithm': options.gzip ? grpc.compressionAlgorithms.gzip : grpc.compressionAlgorithms.identity,
    'grpc.max_send_message_length': -1,
  });
  const metadata = new grpc.Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      exportServiceDefinition(signal).Export!.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(message),
      metadata,
      { deadline: Date.now() + 10_000 },
      (error: grpc.ServiceError | null, response?: Buffer) => {
        client.close();
        resolve({ error, response });
      },
    );
  });
}

/** A traces request with `n` valid spans in one resource and scope; `ids` overrides per span. */
export function tracesRequest(n: number, ids: Partial<Pick<Span, 'traceId' | 'spanId' | 'parentSpanId'>>[] = []): TracesData {
  const spans: Span[] = Array.from({ length: n }, (_, i) => ({
    traceId: traceIdFor('test', 'session-1'),
    spanId: spanIdFor(traceIdFor('test', 'session-1'), 'test', String(i)),
    name: `span ${i}`,
    kind: 1,
    startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
    endTimeUnixNano: String(1_700_000_000_000_000_500n + BigInt(i)),
    attributes: [{ key: 'i', value: { intValue: String(i) } }],
    ...ids[i],
  }));
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'raw' } }] },
        scopeSpans: [{ scope: { name: 'raw' }, spans }],
      },
    ],
  };
}

export function logsRequest(n: number): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'raw' } }] },
        scopeLogs: [
          {
            scope: { name: 'raw' },
            logRecords: Array.from({ length: n }, (_, i) => ({
              timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
              severityNumber: 9,
              body: { stringValue: `event ${i}` },
              attributes: [{ key: 'event.name', value: { stringValue: 'api_request' } }],
            })),
          },
        ],
      },
    ],
  };
}

export function metricsRequest(n: number): MetricsData {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'raw' } }] },
        scopeMetrics: [
          {
            scope: { name: 'raw' },
            metrics: [
              {
                name: 'claude_code.token.usage',
                unit: 'tokens',
                sum: {
                  aggregationTemporality: 1,
                  isMonotonic: true,
                  dataPoints: Array.from({ length: n }, (_, i) => ({
                    timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
                    asDouble: i * 10.5,
                    attributes: [{ key: 'type', value: { stringValue: i % 2 ? 'input' : 'output' } }],
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
}
