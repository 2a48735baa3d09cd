/**
 * Config of the OTLP receiver, in the OTel Collector's shape:
 *
 *   receivers:
 *     otlp:
 *       protocols:
 *         grpc: { endpoint: 127.0.0.1:4317, max_recv_msg_size_mib: 4 }
 *         http: { endpoint: 127.0.0.1:4318, max_request_body_size: 20MiB }
 *       auth:
 *         tokens: [ "${env:AGENTOTEL_INGEST_TOKEN}" ]
 *
 * Without a `protocols` key both protocols run with their defaults; with one, only the
 * protocols it names run (an empty `grpc:` enables gRPC with defaults).
 */
import { Fields } from '../../core/config/fields.ts';
import { parseEndpoint, parseTokens, type Endpoint } from '../../core/http/listen-config.ts';

export type { Endpoint };

export interface GrpcConfig {
  endpoint: Endpoint;
  /** Largest accepted message, after decompression, in bytes. */
  maxRecvMsgSize: number;
}

export interface HttpConfig {
  endpoint: Endpoint;
  /** Largest accepted request body, on the wire and after decompression, in bytes. */
  maxRequestBodySize: number;
}

export interface OtlpReceiverConfig {
  grpc?: GrpcConfig;
  http?: HttpConfig;
  /** Accepted bearer tokens; empty means no authentication. */
  tokens: string[];
}

const MiB = 1024 * 1024;
export const DEFAULT_GRPC_ENDPOINT = '127.0.0.1:4317';
export const DEFAULT_HTTP_ENDPOINT = '127.0.0.1:4318';
export const DEFAULT_GRPC_MAX_RECV_MSG_SIZE_MIB = 4;
export const DEFAULT_HTTP_MAX_REQUEST_BODY_SIZE = 20 * MiB;

function parseGrpc(fields: Fields): GrpcConfig {
  const endpoint = parseEndpoint(fields, DEFAULT_GRPC_ENDPOINT);
  const mib = fields.number('max_recv_msg_size_mib', DEFAULT_GRPC_MAX_RECV_MSG_SIZE_MIB, { min: 0.001 });
  fields.done();
  return { endpoint, maxRecvMsgSize: Math.round(mib * MiB) };
}

function parseHttp(fields: Fields): HttpConfig {
  const endpoint = parseEndpoint(fields, DEFAULT_HTTP_ENDPOINT);
  const maxRequestBodySize = fields.size('max_request_body_size', DEFAULT_HTTP_MAX_REQUEST_BODY_SIZE);
  if (maxRequestBodySize < 1) fields.fail('max_request_body_size', 'must be at least 1 byte');
  fields.done();
  return { endpoint, maxRequestBodySize };
}

export function parseConfig(fields: Fields): OtlpReceiverConfig {
  const config: OtlpReceiverConfig = { tokens: parseTokens(fields.object('auth')) };
  if (!fields.keys().includes('protocols')) {
    config.grpc = parseGrpc(new Fields({}, fields.at('protocols.grpc')));
    config.http = parseHttp(new Fields({}, fields.at('protocols.http')));
  } else {
    const protocols = fields.object('protocols');
    const named = protocols.keys();
    if (named.includes('grpc')) config.grpc = parseGrpc(protocols.object('grpc'));
    if (named.includes('http')) config.http = parseHttp(protocols.object('http'));
    protocols.done();
    if (!config.grpc && !config.http) fields.fail('protocols', 'must enable at least one protocol: grpc, http');
  }
  fields.done();
  return config;
}
