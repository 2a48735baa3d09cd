/**
 * OTLP wire formats <-> the span model. Protobuf through protobufjs reflection over the
 * `.proto` files in `proto/`; OTLP/JSON through the same message types (so both paths
 * validate and normalize identically). Ids become lowercase hex, 64-bit ints strings.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { LogsData, MetricsData, Signal, SignalData, TracesData } from './model.ts';
import { decodeTracesWire } from './traces-wire.ts';
import { encodeTracesWire } from './traces-wire-encoder.ts';

const protoRoot = fileURLToPath(new URL('../../proto/', import.meta.url));

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(protoRoot, target);
  root.loadSync([
    'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    'opentelemetry/proto/collector/logs/v1/logs_service.proto',
    'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  ]);
  root.resolveAll();
  return root;
}

export const otlpRoot = loadRoot();

const requestTypeName: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
};
const responseTypeName: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
};

export function requestType(signal: Signal): protobuf.Type {
  return otlpRoot.lookupType(requestTypeName[signal]);
}

export function responseType(signal: Signal): protobuf.Type {
  return otlpRoot.lookupType(responseTypeName[signal]);
}

/** Thrown for input that is not a valid OTLP message; `message` says what and where. */
export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}

const toObjectOptions: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: String };

type Json = Record<string, unknown>;
type IdMapper = (value: unknown, where: string) => unknown;

/** Visits every trace/span id field of a signal's message (spans, links, log records, exemplars). */
function mapIds(signal: Signal, data: Json, map: IdMapper): void {
  const ids = (o: Json, where: string, keys: string[]) => {
    for (const k of keys) if (o[k] !== undefined && o[k] !== null) o[k] = map(o[k], `${where}.${k}`);
  };
  const each = (o: Json, key: string, f: (child: Json, where: string) => void, where: string) => {
    const list = o[key];
    if (Array.isArray(list)) list.forEach((c, i) => { if (c && typeof c === 'object') f(c as Json, `${where}.${key}[${i}]`); });
  };
  const exemplars = (dp: Json, where: string) => each(dp, 'exemplars', (e, w) => ids(e, w, ['traceId', 'spanId']), where);
  if (signal === 'traces') {
    each(data, 'resourceSpans', (rs, w1) => each(rs, 'scopeSpans', (ss, w2) => each(ss, 'spans', (span, w3) => {
      ids(span, w3, ['traceId', 'spanId', 'parentSpanId']);
      each(span, 'links', (link, w4) => ids(link, w4, ['traceId', 'spanId']), w3);
    }, w2), w1), 'request');
  } else if (signal === 'logs') {
    each(data, 'resourceLogs', (rl, w1) => each(rl, 'scopeLogs', (sl, w2) => each(sl, 'logRecords', (lr, w3) => ids(lr, w3, ['traceId', 'spanId']), w2), w1), 'request');
  } else {
    each(data, 'resourceMetrics', (rm, w1) => each(rm, 'scopeMetrics', (sm, w2) => each(sm, 'metrics', (m, w3) => {
      for (const kind of ['gauge', 'sum', 'histogram', 'exponentialHistogram']) {
        const body = m[kind];
        if (body && typeof body === 'object') each(body as Json, 'dataPoints', exemplars, `${w3}.${kind}`);
      }
    }, w2), w1), 'request');
  }
}

const base64ToHex: IdMapper = (v) => Buffer.from(String(v), 'base64').toString('hex');
const hexToBytes: IdMapper = (v) => Buffer.from(String(v), 'hex');
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const jsonHexToBytes: IdMapper = (v, where) => {
  if (typeof v !== 'string' || !HEX.test(v)) throw new OtlpDecodeError(`${where}: expected a hex string, got ${JSON.stringify(v).slice(0, 40)}`);
  return Buffer.from(v, 'hex');
};

function toModel<S extends Signal>(signal: S, message: protobuf.Message): SignalData[S] {
  const obj = requestType(signal).toObject(message, toObjectOptions) as Json;
  mapIds(signal, obj, base64ToHex);
  return obj as SignalData[S];
}

/**
 * Decodes an OTLP protobuf Export*ServiceRequest (or *Data: same wire format). Traces, the
 * hot path, go through the hand-written decoder, which yields what the reflection path would.
 */
export function decodeProtobuf<S extends Signal>(signal: S, bytes: Uint8Array): SignalData[S] {
  let message: protobuf.Message;
  try {
    if (signal === 'traces') return decodeTracesWire(bytes) as SignalData[S];
    message = requestType(signal).decode(bytes);
  } catch (err) {
    throw new OtlpDecodeError(`invalid OTLP protobuf ${signal} request: ${(err as Error).message}`);
  }
  return toModel(signal, message);
}

/** Parses an OTLP/JSON request body (ids in hex, int64 as number or string). */
export function decodeJson<S extends Signal>(signal: S, text: string): SignalData[S] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OtlpDecodeError(`OTLP/JSON ${signal} request must be a JSON object`);
  }
  const obj = parsed as Json;
  mapIds(signal, obj, jsonHexToBytes);
  // Not Type.verify: it rejects int64 as strings, which OTLP/JSON allows. fromObject checks
  // structure (arrays, nested objects) and coerces scalars.
  let message: protobuf.Message;
  try {
    message = requestType(signal).fromObject(obj);
  } catch (err) {
    throw new OtlpDecodeError(`invalid OTLP/JSON ${signal} request: ${(err as Error).message}`);
  }
  return toModel(signal, message);
}

/**
 * Encodes the model as an OTLP protobuf Export*ServiceRequest. Traces in the model's shape go
 * through the hand-written encoder, which writes what the reflection path would.
 */
export function encodeProtobuf<S extends Signal>(signal: S, data: SignalData[S]): Uint8Array {
  if (signal === 'traces') {
    const bytes = encodeTracesWire(data as TracesData);
    if (bytes) return bytes;
  }
  // fromObject wants bytes in the id fields: swap them in place, build the message, swap back.
  const obj = data as Json;
  const type = requestType(signal);
  mapIds(signal, obj, hexToBytes);
  try {
    return type.encode(type.fromObject(obj)).finish();
  } finally {
    mapIds(signal, obj, bytesToHex);
  }
}

const bytesToHex: IdMapper = (v) => Buffer.from(v as Uint8Array).toString('hex');

export type { TracesData, LogsData, MetricsData };
