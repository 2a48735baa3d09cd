/**
 * The span model -> ExportTraceServiceRequest protobuf, written out by hand for the hot path
 * (every bus hop encodes): the reflection codec's id swap + fromObject + encode cost ~14 µs a
 * span. For a message in the model's shape it writes the bytes the reflection path writes
 * (traces-wire-encoder.test.ts compares the two): fields in field-number order, scalars at
 * their default value left out, every oneof member present written.
 *
 * A value outside the model's shape (a number where a decimal string belongs, ids that are not
 * hex, an enum by name, nesting near the limit) is not guessed at: `encodeTracesWire` returns
 * undefined and the caller uses the reflection path, which coerces or rejects it.
 *
 * One deliberate difference: a lone UTF-16 surrogate becomes U+FFFD here, as in strings of 40
 * characters and more on the reflection path; on shorter strings that path writes bytes that
 * are not UTF-8, which every decoder (ours included) then rejects.
 */
import type { AnyValue, InstrumentationScope, KeyValue, Resource, ScopeSpans, Span, SpanEvent, SpanLink, TracesData } from './model.ts';

/** Thrown inside the encoder for a value outside the model's shape; never escapes this module. */
const NOT_MODEL_SHAPED = Symbol('not model-shaped');

/** Below protobufjs's recursion limit (100): deeper messages take the reflection path and its error. */
const MAX_DEPTH = 90;
const INT64_MIN = -(1n << 63n);
const INT64_LIMIT = 1n << 63n;
const SIGNED = /^-?[0-9]+$/;
const UNSIGNED = /^[0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface WritingBuffer extends Buffer {
  utf8Write(text: string, offset: number): number;
}

function bail(): never {
  throw NOT_MODEL_SHAPED;
}

/** A hex digit's value, or -1. */
function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * The low and high 32 bits of an unsigned decimal integer below 2^64, without BigInt (two a
 * span, and BigInt's allocations cost more than the rest of the field). False when out of range.
 */
const words = { low: 0, high: 0 };
function decimalWords(text: string): boolean {
  const n = text.length;
  if (n <= 15) {
    const v = Number(text);
    words.low = v % 0x100000000;
    words.high = Math.floor(v / 0x100000000);
    return true;
  }
  if (n > 20) return false;
  // text = upper * 1e9 + lower, upper = a * 2^16 + b; every partial product stays below 2^53.
  const upper = Number(text.slice(0, n - 9));
  const lower = Number(text.slice(n - 9));
  const a = Math.floor(upper / 0x10000);
  const b = upper % 0x10000;
  const t = a * 1e9;
  const low = (t % 0x10000) * 0x10000 + b * 1e9 + lower;
  const high = Math.floor(t / 0x10000) + Math.floor(low / 0x100000000);
  if (high >= 0x100000000) return false;
  words.low = low % 0x100000000;
  words.high = high;
  return true;
}

const varintSize = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

class Writer {
  buf: WritingBuffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size) as WritingBuffer;
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const grown = Buffer.allocUnsafe(size) as WritingBuffer;
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** A uint32 varint (tags, lengths, uint32 fields, non-negative int32). */
  uint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** A 64-bit varint from its two's complement value in [0, 2^64). */
  uint64(v: bigint): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (v > 0x7fn) {
      buf[pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    buf[pos++] = Number(v);
    this.pos = pos;
  }

  /** A varint of a non-negative integer below 2^53. */
  safeVarint(v: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    while (v > 0x7f) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32LE(v, this.pos);
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(low, this.pos);
    this.buf.writeUInt32LE(high, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }

  /** A length-delimited string; short ASCII strings are copied here, the rest by Node's UTF-8 writer. */
  string(text: string): void {
    const n = text.length;
    if (n < 0x80) {
      this.ensure(1 + n);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = start + n;
        return;
      }
    }
    const reserved = varintSize(3 * n);
    this.ensure(reserved + 3 * n);
    const start = this.pos + reserved;
    const written = this.buf.utf8Write(text, start);
    this.finishLength(start, start + written, reserved);
  }

  /** Hex text as bytes (trace and span ids, at most 127 bytes); bails on anything but hex digits. */
  hex(text: string): void {
    const n = text.length >>> 1;
    if (n >= 0x80 || text.length % 2 !== 0) bail();
    this.ensure(1 + n);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = n;
    for (let i = 0; i < text.length; i += 2) {
      const hi = nibble(text.charCodeAt(i));
      const lo = nibble(text.charCodeAt(i + 1));
      if (hi < 0 || lo < 0) bail();
      buf[pos++] = (hi << 4) | lo;
    }
    this.pos = pos;
  }

  base64(text: string): void {
    const bytes = Buffer.from(text, 'base64');
    this.uint32(bytes.length);
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  /** Starts an embedded message: reserves one byte for its length; returns where its content starts. */
  fork(): number {
    this.ensure(1);
    return ++this.pos;
  }

  /** Ends the embedded message started at `start`, moving it if its length needs more than one byte. */
  ldelim(start: number): void {
    this.finishLength(start, this.pos, 1);
  }

  private finishLength(start: number, end: number, reserved: number): void {
    const n = end - start;
    const size = varintSize(n);
    let at = start - reserved;
    if (size !== reserved) {
      this.ensure(size - reserved);
      this.buf.copyWithin(at + size, start, end);
    }
    const buf = this.buf;
    let v = n;
    while (v > 0x7f) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at] = v;
    this.pos = end + size - reserved;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Field writers: each checks the value's type against the model and writes it the way the
// reflection path's fromObject + encode would, or bails.

function stringField(w: Writer, tag: number, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string') bail();
  if (v.length === 0) return;
  w.uint32(tag);
  w.string(v);
}

function idField(w: Writer, tag: number, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string') bail();
  if (v.length === 0) return;
  w.uint32(tag);
  w.hex(v);
}

function uint32Field(w: Writer, tag: number, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number') bail();
  const u = v >>> 0;
  if (u === 0) return;
  w.uint32(tag);
  w.uint32(u);
}

function fixed32Field(w: Writer, tag: number, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number') bail();
  const u = v >>> 0;
  if (u === 0) return;
  w.uint32(tag);
  w.fixed32(u);
}

/** An enum (int32) given as a number; negative values take 10 bytes, as int32 varints do. */
function enumField(w: Writer, tag: number, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || (v | 0) !== v) bail();
  if (v === 0) return;
  w.uint32(tag);
  if (v > 0) w.uint32(v);
  else w.uint64(BigInt.asUintN(64, BigInt(v)));
}

/** A fixed64 nanosecond timestamp given as a decimal string. */
function fixed64Field(w: Writer, tag: number, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string' || !UNSIGNED.test(v) || !decimalWords(v)) bail();
  if (words.low === 0 && words.high === 0) return;
  w.uint32(tag);
  w.fixed64(words.low, words.high);
}

/** An int64 given as a decimal string, as a varint (negative values in two's complement). */
function int64(w: Writer, v: string): void {
  if (!SIGNED.test(v)) bail();
  if (v.length <= 15 && v.charCodeAt(0) !== 45) return w.safeVarint(Number(v));
  const n = BigInt(v);
  if (n < INT64_MIN || n >= INT64_LIMIT) bail();
  w.uint64(BigInt.asUintN(64, n));
}

function messageList<T>(w: Writer, tag: number, list: unknown, depth: number, write: (w: Writer, item: T, depth: number) => void): void {
  if (!list) return;
  if (!Array.isArray(list)) bail();
  for (const item of list) {
    if (!isObject(item)) bail();
    w.uint32(tag);
    const start = w.fork();
    write(w, item as T, depth + 1);
    w.ldelim(start);
  }
}

function message<T>(w: Writer, tag: number, v: unknown, depth: number, write: (w: Writer, item: T, depth: number) => void): void {
  if (v === undefined || v === null) return;
  if (!isObject(v)) bail();
  w.uint32(tag);
  const start = w.fork();
  write(w, v as T, depth + 1);
  w.ldelim(start);
}

function anyValue(w: Writer, v: AnyValue, depth: number): void {
  if (depth > MAX_DEPTH) bail();
  // Every member present is written, in field order (fromObject keeps them all).
  if (v.stringValue !== undefined && v.stringValue !== null) {
    if (typeof v.stringValue !== 'string') bail();
    w.uint32(10);
    w.string(v.stringValue);
  }
  if (v.boolValue !== undefined && v.boolValue !== null) {
    if (typeof v.boolValue !== 'boolean') bail();
    w.uint32(16);
    w.uint32(v.boolValue ? 1 : 0);
  }
  if (v.intValue !== undefined && v.intValue !== null) {
    if (typeof v.intValue !== 'string') bail();
    w.uint32(24);
    int64(w, v.intValue);
  }
  if (v.doubleValue !== undefined && v.doubleValue !== null) {
    if (typeof v.doubleValue !== 'number') bail();
    w.uint32(33);
    w.double(v.doubleValue);
  }
  message(w, 42, v.arrayValue, depth, arrayValue);
  message(w, 50, v.kvlistValue, depth, kvlistValue);
  if (v.bytesValue !== undefined && v.bytesValue !== null) {
    if (typeof v.bytesValue !== 'string' || !BASE64.test(v.bytesValue)) bail();
    w.uint32(58);
    w.base64(v.bytesValue);
  }
}

function arrayValue(w: Writer, list: { values?: AnyValue[] }, depth: number): void {
  messageList(w, 10, list.values, depth, anyValue);
}

function kvlistValue(w: Writer, list: { values?: KeyValue[] }, depth: number): void {
  messageList(w, 10, list.values, depth, keyValue);
}

function keyValue(w: Writer, kv: KeyValue, depth: number): void {
  if (depth > MAX_DEPTH) bail();
  stringField(w, 10, kv.key);
  message(w, 18, kv.value, depth, anyValue);
}

function stringList(w: Writer, tag: number, list: unknown): void {
  if (!list) return;
  if (!Array.isArray(list)) bail();
  for (const s of list) {
    if (typeof s !== 'string') bail();
    w.uint32(tag);
    w.string(s);
  }
}

function entityRef(w: Writer, ref: Record<string, unknown>): void {
  stringField(w, 10, ref.schemaUrl);
  stringField(w, 18, ref.type);
  stringList(w, 26, ref.idKeys);
  stringList(w, 34, ref.descriptionKeys);
}

function resource(w: Writer, r: Resource, depth: number): void {
  messageList(w, 10, r.attributes, depth, keyValue);
  uint32Field(w, 16, r.droppedAttributesCount);
  messageList(w, 26, (r as Record<string, unknown>).entityRefs, depth, entityRef);
}

function scope(w: Writer, s: InstrumentationScope, depth: number): void {
  stringField(w, 10, s.name);
  stringField(w, 18, s.version);
  messageList(w, 26, s.attributes, depth, keyValue);
  uint32Field(w, 32, s.droppedAttributesCount);
}

function event(w: Writer, e: SpanEvent, depth: number): void {
  fixed64Field(w, 9, e.timeUnixNano);
  stringField(w, 18, e.name);
  messageList(w, 26, e.attributes, depth, keyValue);
  uint32Field(w, 32, e.droppedAttributesCount);
}

function link(w: Writer, l: SpanLink, depth: number): void {
  idField(w, 10, l.traceId);
  idField(w, 18, l.spanId);
  stringField(w, 26, l.traceState);
  messageList(w, 34, l.attributes, depth, keyValue);
  uint32Field(w, 40, l.droppedAttributesCount);
  fixed32Field(w, 53, l.flags);
}

function status(w: Writer, s: { message?: string; code?: number }): void {
  stringField(w, 18, s.message);
  enumField(w, 24, s.code);
}

function span(w: Writer, s: Span, depth: number): void {
  idField(w, 10, s.traceId);
  idField(w, 18, s.spanId);
  stringField(w, 26, s.traceState);
  idField(w, 34, s.parentSpanId);
  stringField(w, 42, s.name);
  enumField(w, 48, s.kind);
  fixed64Field(w, 57, s.startTimeUnixNano);
  fixed64Field(w, 65, s.endTimeUnixNano);
  messageList(w, 74, s.attributes, depth, keyValue);
  uint32Field(w, 80, s.droppedAttributesCount);
  messageList(w, 90, s.events, depth, event);
  uint32Field(w, 96, s.droppedEventsCount);
  messageList(w, 106, s.links, depth, link);
  uint32Field(w, 112, s.droppedLinksCount);
  message(w, 122, s.status, depth, status);
  fixed32Field(w, 133, s.flags);
}

function scopeSpans(w: Writer, ss: ScopeSpans, depth: number): void {
  message(w, 10, ss.scope, depth, scope);
  messageList(w, 18, ss.spans, depth, span);
  stringField(w, 26, ss.schemaUrl);
}

function resourceSpans(w: Writer, rs: { resource?: Resource; scopeSpans?: ScopeSpans[]; schemaUrl?: string }, depth: number): void {
  message(w, 10, rs.resource, depth, resource);
  messageList(w, 18, rs.scopeSpans, depth, scopeSpans);
  stringField(w, 26, rs.schemaUrl);
}

/** Reused across calls (encoding is synchronous); grows to the largest message seen. */
const scratch = new Writer(64 * 1024);

/** The message's protobuf bytes, or undefined when a value is outside the model's shape. */
export function encodeTracesWire(data: TracesData): Uint8Array | undefined {
  const w = scratch;
  w.pos = 0;
  try {
    messageList(w, 10, data.resourceSpans, 0, resourceSpans);
  } catch (err) {
    if (err === NOT_MODEL_SHAPED) return undefined;
    throw err;
  }
  return Buffer.from(w.buf.subarray(0, w.pos));
}
