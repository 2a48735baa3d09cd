/**
 * Bodies of OTLP/HTTP responses, in the encoding of the request: Export*ServiceResponse on
 * success (with partial_success when items were rejected), google.rpc.Status on failure.
 */
import protobuf from 'protobufjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { responseType } from '../../core/otlp/codec.ts';
import type { Signal } from '../../core/otlp/model.ts';

export type Encoding = 'protobuf' | 'json';

export const contentTypeOf: Record<Encoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

const protoDir = fileURLToPath(new URL('../../proto/', import.meta.url));

function loadStatusType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(protoDir, target));
  root.loadSync('google/rpc/status.proto');
  return root.lookupType('google.rpc.Status');
}

const statusType = loadStatusType();

export function encodeStatus(encoding: Encoding, code: number, message: string): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  return Buffer.from(statusType.encode(statusType.create({ code, message })).finish());
}

/** What the receiver tells the client about one accepted request. */
export interface PartialSuccess {
  rejected: number;
  errorMessage: string;
}

const rejectedField: Record<Signal, string> = {
  traces: 'rejectedSpans',
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
};

const EMPTY = Buffer.alloc(0);
const EMPTY_JSON = Buffer.from('{}');

/** The Export*ServiceResponse; partial_success is left unset when nothing was rejected. */
export function encodeExportResponse(signal: Signal, encoding: Encoding, partial: PartialSuccess | undefined): Buffer {
  if (!partial) return encoding === 'json' ? EMPTY_JSON : EMPTY;
  // OTLP/JSON writes int64 as a decimal string (protobuf JSON mapping).
  const partialSuccess = { [rejectedField[signal]]: String(partial.rejected), errorMessage: partial.errorMessage };
  if (encoding === 'json') return Buffer.from(JSON.stringify({ partialSuccess }));
  const type = responseType(signal);
  return Buffer.from(type.encode(type.fromObject({ partialSuccess })).finish());
}
