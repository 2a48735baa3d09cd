/**
 * OTLP/HTTP (OTLP specification, "OTLP/HTTP"): POST /v1/traces, /v1/logs, /v1/metrics with
 * a protobuf or JSON body, optionally gzip-compressed. The answer is in the encoding of the
 * request: the Export*ServiceResponse on 200, a google.rpc.Status on failure, 503 with
 * Retry-After when the pipeline cannot take the data.
 */
import { DataTooLargeError } from '../../core/component.ts';
import type http from 'node:http';
import { log } from '../../core/log.ts';
import { decodeJson, decodeProtobuf, OtlpDecodeError } from '../../core/otlp/codec.ts';
import type { Signal, SignalData } from '../../core/otlp/model.ts';
import type { AuthCheck } from '../../core/http/auth.ts';
import type { HttpConfig } from './config.ts';
import { ReceiverHttpServer, sendBody } from '../../core/http/server.ts';
import { contentCodingOf, decodeContent, readBody } from '../../core/http/body.ts';
import { HttpError, RpcCode } from '../../core/http/errors.ts';
import { type Ingest, NextUnavailableError } from './ingest.ts';
import { contentTypeOf, type Encoding, encodeExportResponse, encodeStatus } from './responses.ts';

const signalOfPath: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/logs': 'logs', '/v1/metrics': 'metrics' };
const RETRY_AFTER_SECONDS = '1';

function encodingOf(contentType: string | undefined): Encoding | undefined {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (media === 'application/x-protobuf') return 'protobuf';
  if (media === 'application/json') return 'json';
  return undefined;
}

function decode<S extends Signal>(signal: S, encoding: Encoding, bytes: Buffer): SignalData[S] {
  return encoding === 'protobuf' ? decodeProtobuf(signal, bytes) : decodeJson(signal, bytes.toString('utf8'));
}

export class OtlpHttpServer extends ReceiverHttpServer {
  constructor(
    private readonly receiverId: string,
    private readonly config: HttpConfig,
    private readonly ingest: Ingest,
    private readonly authorized: AuthCheck,
  ) {
    super(config.endpoint);
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const encoding = encodingOf(req.headers['content-type']);
    try {
      const signal = this.route(req);
      if (!encoding) {
        throw new HttpError(
          415,
          RpcCode.UNIMPLEMENTED,
          `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}; use application/x-protobuf or application/json`,
        );
      }
      const coding = contentCodingOf(req.headers['content-encoding']);
      const limit = this.config.maxRequestBodySize;
      const body = await decodeContent(await readBody(req, limit), coding, limit);
      const data = decode(signal, encoding, body);
      const partial = await this.ingest.accept(signal, data, 'http');
      send(res, 200, encoding, encodeExportResponse(signal, encoding, partial));
    } catch (err) {
      this.fail(res, encoding ?? 'json', err);
    }
  }

  /** Which signal the request is for, after authentication, path and method checks. */
  private route(req: http.IncomingMessage): Signal {
    if (!this.authorized(req.headers.authorization)) {
      throw new HttpError(401, RpcCode.UNAUTHENTICATED, 'missing or invalid bearer token (Authorization: Bearer <token>)', {
        'www-authenticate': 'Bearer',
      });
    }
    const path = (req.url ?? '').split('?', 1)[0]!;
    const signal = signalOfPath[path];
    if (!signal || !this.ingest.signals.includes(signal)) {
      const served = this.ingest.signals.map((s) => `/v1/${s}`).join(', ');
      throw new HttpError(404, RpcCode.NOT_FOUND, `no OTLP endpoint at ${JSON.stringify(path)}; this receiver serves ${served}`);
    }
    if (req.method !== 'POST') {
      throw new HttpError(405, RpcCode.UNIMPLEMENTED, `method ${req.method} not allowed on ${path}; use POST`, { allow: 'POST' });
    }
    return signal;
  }

  private fail(res: http.ServerResponse, encoding: Encoding, err: unknown): void {
    if (err instanceof HttpError) return send(res, err.status, encoding, encodeStatus(encoding, err.rpcCode, err.message), err.headers);
    if (err instanceof OtlpDecodeError) return send(res, 400, encoding, encodeStatus(encoding, RpcCode.INVALID_ARGUMENT, err.message));
    if (err instanceof DataTooLargeError) return send(res, 413, encoding, encodeStatus(encoding, RpcCode.RESOURCE_EXHAUSTED, err.message));
    if (err instanceof NextUnavailableError) {
      return send(res, 503, encoding, encodeStatus(encoding, RpcCode.UNAVAILABLE, err.message), { 'retry-after': RETRY_AFTER_SECONDS });
    }
    log('error', 'otlp receiver: unexpected error handling an HTTP request', { receiver: this.receiverId, error: (err as Error).message });
    send(res, 500, encoding, encodeStatus(encoding, RpcCode.INTERNAL, 'internal error'));
  }
}

function send(res: http.ServerResponse, status: number, encoding: Encoding, body: Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  sendBody(res, status, contentTypeOf[encoding], body, headers);
}
