/**
 * OTLP/gRPC (OTLP specification, "OTLP/gRPC"): the unary Export method of the trace, logs
 * and metrics collector services. Messages pass through grpc-js as raw bytes (it handles
 * grpc-encoding gzip and the size limit) and are decoded here, so a malformed message gets
 * INVALID_ARGUMENT with the decoder's reason rather than grpc-js's INTERNAL.
 */
import { DataTooLargeError } from '../../core/component.ts';
import * as grpc from '@grpc/grpc-js';
import { decodeProtobuf, OtlpDecodeError } from '../../core/otlp/codec.ts';
import { log } from '../../core/log.ts';
import type { Signal } from '../../core/otlp/model.ts';
import type { AuthCheck } from '../../core/http/auth.ts';
import type { GrpcConfig } from './config.ts';
import { type Ingest, NextUnavailableError } from './ingest.ts';
import { encodeExportResponse } from './responses.ts';

const serviceName: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};

const asBytes = (b: Buffer) => b;

export function exportServiceDefinition(signal: Signal): grpc.ServiceDefinition {
  const exportMethod: grpc.MethodDefinition<Buffer, Buffer> = {
    path: `/${serviceName[signal]}/Export`,
    requestStream: false,
    responseStream: false,
    requestSerialize: asBytes,
    requestDeserialize: asBytes,
    responseSerialize: asBytes,
    responseDeserialize: asBytes,
  };
  return { Export: exportMethod };
}

class GrpcFailure extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export class OtlpGrpcServer {
  private readonly server: grpc.Server;

  constructor(
    private readonly receiverId: string,
    private readonly config: GrpcConfig,
    private readonly ingest: Ingest,
    private readonly authorized: AuthCheck,
  ) {
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': config.maxRecvMsgSize });
    for (const signal of ingest.signals) {
      const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
        this.export(signal, call).then(
          (response) => callback(null, response),
          (err: unknown) => callback(this.toStatus(err)),
        );
      };
      this.server.addService(exportServiceDefinition(signal), { Export: handler });
    }
  }

  /** Binds and serves; resolves with the bound address (host:port). */
  start(): Promise<string> {
    const { host, port } = this.config.endpoint;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${hostPart}:${port}`, grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
        if (err) reject(err);
        else resolve(`${hostPart}:${boundPort}`);
      });
    });
  }

  /** Stops accepting calls and resolves once the calls in flight have been answered. */
  shutdown(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  private async export(signal: Signal, call: grpc.ServerUnaryCall<Buffer, Buffer>): Promise<Buffer> {
    const [authorization] = call.metadata.get('authorization');
    if (!this.authorized(authorization === undefined ? undefined : String(authorization))) {
      throw new GrpcFailure(grpc.status.UNAUTHENTICATED, 'missing or invalid bearer token (metadata authorization: Bearer <token>)');
    }
    const data = decodeProtobuf(signal, call.request);
    const partial = await this.ingest.accept(signal, data, 'grpc');
    return encodeExportResponse(signal, 'protobuf', partial);
  }

  private toStatus(err: unknown): Partial<grpc.StatusObject> {
    if (err instanceof GrpcFailure) return { code: err.code, details: err.message };
    if (err instanceof OtlpDecodeError || err instanceof DataTooLargeError)
      return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
    if (err instanceof NextUnavailableError) return { code: grpc.status.UNAVAILABLE, details: err.message };
    log('error', 'otlp receiver: unexpected error handling a gRPC call', { receiver: this.receiverId, error: (err as Error).message });
    return { code: grpc.status.INTERNAL, details: 'internal error' };
  }
}
