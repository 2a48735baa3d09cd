/**
 * ExportTraceServiceRequest (= TracesData) protobuf <-> the span model, written out by hand
 * for the hot path: the reflection codec's decode + toObject + id conversion cost ~16 µs a
 * span, this ~2. It gives exactly what the reflection path gives (codec.test.ts compares the
 * two): protobufjs 8's proto3 semantics, so scalar fields at their default value are absent,
 * a repeated singular message merges, the last oneof member wins, unknown fields and fields
 * of the wrong wire type are skipped, strings must be valid UTF-8, nesting stops at 100.
 */
import { isUtf8 } from 'node:buffer';
import type { AnyValue, KeyValue, Resource, ScopeSpans, Span, SpanEvent, SpanLink, TracesData, ResourceSpans, InstrumentationScope } from './model.ts';

const RECURSION_LIMIT = 100;
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const START_GROUP = 3;
const FIXED32 = 5;

type Json = Record<string, unknown>;

/**
 * Node's Buffer has had these since its beginning (they are what toString(encoding, start,
 * end) calls after checking its arguments); on short strings the checks cost more than the copy.
 */
interface SlicingBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
}

/**
 * The decimal digits of the uint64 high * 2^32 + low, without BigInt (nanosecond timestamps are
 * above 2^53, and BigInt's allocation and toString were a tenth of the decoder's time):
 * long division of its four 16-bit limbs by 10^7, twice; every intermediate stays below 2^40.
 */
export function uint64Decimal(low: number, high: number): string {
  if (high < 0x200000) return String(high * 0x100000000 + low);
  let a = high >>> 16;
  let b = high & 0xffff;
  let c = low >>> 16;
  let d = low & 0xffff;
  let digits = '';
  for (let pass = 0; pass < 2; pass++) {
    let r = a;
    a = Math.floor(r / 1e7);
    r -= a * 1e7;
    r = r * 0x10000 + b;
    b = Math.floor(r / 1e7);
    r -= b * 1e7;
    r = r * 0x10000 + c;
    c = Math.floor(r / 1e7);
    r -= c * 1e7;
    r = r * 0x10000 + d;
    d = Math.floor(r / 1e7);
    r -= d * 1e7;
    digits = String(r).padStart(7, '0') + digits;
  }
  // What is left is below 2^64 / 10^14 < 184,468, and above 0 (the value is at least 2^53).
  return String(((a * 0x10000 + b) * 0x10000 + c) * 0x10000 + d) + digits;
}

/**
 * Short ASCII strings (attribute keys, operation and model names, enum-like values) repeat in
 * every span: the last one seen per hash slot is reused instead of allocating the same string
 * again. Fewer allocations, and equal keys are then the same string (cheaper Map lookups).
 */
const INTERNED_MAX_LENGTH = 32;
const INTERNED_SLOTS = 4096;
const internedStrings: string[] = new Array<string>(INTERNED_SLOTS).fill('');

function interned(buf: SlicingBuffer, start: number, n: number, hash: number): string {
  const slot = hash & (INTERNED_SLOTS - 1);
  const known = internedStrings[slot]!;
  if (known.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (known.charCodeAt(i) !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return known;
  }
  const text = buf.latin1Slice(start, start + n);
  internedStrings[slot] = text;
  return text;
}

class Reader {
  pos = 0;

  constructor(readonly buf: SlicingBuffer) {}

  private outOfRange(length: number): RangeError {
    return new RangeError(`index out of range: ${this.pos} + ${length} > ${this.buf.length}`);
  }

  /** A varint's low 32 bits (uint32, int32 and tags read this way, as protobufjs does). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = buf[pos++]!;
    let v = b & 0x7f;
    if (b >= 0x80) {
      b = buf[pos++]!;
      v |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = buf[pos++]!;
        v |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          b = buf[pos++]!;
          v |= (b & 0x7f) << 21;
          if (b >= 0x80) {
            b = buf[pos++]!;
            v |= b << 28;
            for (let i = 0; b >= 0x80; i++) {
              if (i === 5) throw new Error(`invalid varint encoding at offset ${this.pos}`);
              b = buf[pos++]!;
            }
          }
        }
      }
    }
    if (pos > buf.length) throw this.outOfRange(1);
    this.pos = pos;
    return v >>> 0;
  }

  /** A signed int64 varint as a decimal string. */
  int64(): string {
    const buf = this.buf;
    const start = this.pos;
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const b = buf[this.pos++];
      if (b === undefined) throw this.outOfRange(1);
      v += (b & 0x7f) * scale;
      if (b < 0x80) return String(v); // < 2^49: exact as a double
      scale *= 128;
    }
    this.pos = start;
    let big = 0n;
    for (let i = 0; i < 10; i++) {
      const b = buf[this.pos++];
      if (b === undefined) throw this.outOfRange(1);
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return BigInt.asIntN(64, big).toString();
    }
    throw new Error(`invalid varint encoding at offset ${start}`);
  }

  private need(length: number): number {
    const start = this.pos;
    if (start + length > this.buf.length) throw this.outOfRange(length);
    this.pos = start + length;
    return start;
  }

  fixed32(): number {
    return this.buf.readUInt32LE(this.need(4));
  }

  /** An unsigned fixed64 as a decimal string. */
  fixed64(): string {
    const at = this.need(8);
    return uint64Decimal(this.buf.readUInt32LE(at), this.buf.readUInt32LE(at + 4));
  }

  double(): number {
    return this.buf.readDoubleLE(this.need(8));
  }

  /** The length prefix of a length-delimited field, checked against the buffer. */
  length(): number {
    const n = this.uint32();
    if (this.pos + n > this.buf.length) throw this.outOfRange(n);
    return n;
  }

  string(): string {
    const n = this.length();
    const start = this.pos;
    const end = start + n;
    const buf = this.buf;
    this.pos = end;
    if (n <= INTERNED_MAX_LENGTH) {
      let ascii = true;
      let hash = 0;
      for (let i = start; i < end; i++) {
        const b = buf[i]!;
        if (b >= 0x80) {
          ascii = false;
          break;
        }
        hash = (Math.imul(hash, 31) + b) | 0;
      }
      if (ascii) return interned(buf, start, n, hash);
    } else if (n < 40) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if (buf[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return buf.latin1Slice(start, end);
    }
    if (!isUtf8(buf.subarray(start, end))) throw new Error('The encoded data was not valid for encoding utf-8');
    return buf.utf8Slice(start, end);
  }

  hex(): string {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    return this.buf.hexSlice(start, start + n);
  }

  base64(): string {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    return this.buf.base64Slice(start, start + n);
  }

  /** Skips a field of an unknown number or an unexpected wire type. */
  skip(wireType: number, field: number, depth: number): void {
    if (depth > RECURSION_LIMIT) throw new Error('max depth exceeded');
    if (field === 0) throw new Error('illegal tag: field number 0');
    switch (wireType) {
      case VARINT:
        this.uint32();
        return;
      case FIXED64:
        this.need(8);
        return;
      case LEN: {
        const n = this.length();
        this.pos += n;
        return;
      }
      case START_GROUP:
        for (;;) {
          const tag = this.uint32();
          const nested = tag >>> 3;
          if (nested === 0) throw new Error('illegal tag: field number 0');
          if ((tag & 7) === 4) {
            if (nested !== field) throw new Error('invalid end group tag');
            return;
          }
          this.skip(tag & 7, nested, depth + 1);
        }
      case FIXED32:
        this.need(4);
        return;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }

  /** End offset of the embedded message whose length comes next. */
  message(depth: number): number {
    if (depth > RECURSION_LIMIT) throw new Error('max depth exceeded');
    const n = this.length();
    return this.pos + n;
  }

  finish(end: number): void {
    if (this.pos !== end) throw new RangeError(`index out of range: ${this.pos} + 1 > ${end}`);
  }
}

// Each decoder reads fields until `end`, into `into` when the field was already present
// (a repeated singular message merges, as protobufjs does).

function setOrDelete(o: Json, key: string, value: unknown, present: boolean): void {
  if (present) o[key] = value;
  else if (key in o) delete o[key];
}

function push<T>(o: Json, key: string, value: T): void {
  const list = o[key] as T[] | undefined;
  if (list) list.push(value);
  else o[key] = [value];
}

type Member = keyof AnyValue;

/** One oneof member of AnyValue as read from the wire; undefined for an unknown field (skipped). */
function anyValueMember(r: Reader, field: number, wire: number, depth: number, o: AnyValue): Member | undefined {
  switch (field) {
    case 1:
      if (wire !== LEN) return undefined;
      o.stringValue = r.string();
      return 'stringValue';
    case 2:
      if (wire !== VARINT) return undefined;
      o.boolValue = varintIsNonZero(r);
      return 'boolValue';
    case 3:
      if (wire !== VARINT) return undefined;
      o.intValue = r.int64();
      return 'intValue';
    case 4:
      if (wire !== FIXED64) return undefined;
      o.doubleValue = r.double();
      return 'doubleValue';
    case 5: {
      if (wire !== LEN) return undefined;
      const e = r.message(depth + 1);
      o.arrayValue = valueList(r, e, depth + 1, o.arrayValue as Json | undefined, 'array');
      r.finish(e);
      return 'arrayValue';
    }
    case 6: {
      if (wire !== LEN) return undefined;
      const e = r.message(depth + 1);
      o.kvlistValue = valueList(r, e, depth + 1, o.kvlistValue as Json | undefined, 'kvlist');
      r.finish(e);
      return 'kvlistValue';
    }
    case 7:
      if (wire !== LEN) return undefined;
      o.bytesValue = r.base64();
      return 'bytesValue';
  }
  return undefined;
}

function anyValue(r: Reader, end: number, depth: number, into: AnyValue | undefined): AnyValue {
  const o: AnyValue = into ?? {};
  let member = into ? (Object.keys(into)[0] as Member | undefined) : undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    const set = anyValueMember(r, field, wire, depth, o);
    if (set === undefined) r.skip(wire, field, depth);
    else {
      // The last member on the wire wins, as with protobufjs's oneof setter.
      if (member !== undefined && member !== set) delete o[member];
      member = set;
    }
  }
  return o;
}

/** A bool varint: any non-zero bit of up to 10 bytes. */
function varintIsNonZero(r: Reader): boolean {
  const start = r.pos;
  let nonZero = false;
  for (let i = 0; i < 10; i++) {
    const b = r.buf[r.pos++];
    if (b === undefined) throw new RangeError(`index out of range: ${start} + 1 > ${r.buf.length}`);
    if ((b & 0x7f) !== 0) nonZero = true;
    if (b < 0x80) return nonZero;
  }
  throw new Error(`invalid varint encoding at offset ${start}`);
}

/** ArrayValue { repeated AnyValue values = 1 } or KeyValueList { repeated KeyValue values = 1 }. */
function valueList(r: Reader, end: number, depth: number, into: Json | undefined, kind: 'array' | 'kvlist'): Json {
  const o = into ?? {};
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    if (tag >>> 3 === 1 && wire === LEN) {
      const e = r.message(depth + 1);
      push(o, 'values', kind === 'array' ? anyValue(r, e, depth + 1, undefined) : keyValue(r, e, depth + 1, undefined));
      r.finish(e);
      continue;
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o;
}

function keyValue(r: Reader, end: number, depth: number, into: KeyValue | undefined): KeyValue {
  const o = (into ?? {}) as Partial<KeyValue>;
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1: {
        if (wire !== LEN) break;
        const key = r.string();
        if (key.length > 0) o.key = key;
        else if (o.key !== undefined) delete o.key;
        continue;
      }
      case 2: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        o.value = anyValue(r, e, depth + 1, o.value);
        r.finish(e);
        continue;
      }
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o as KeyValue;
}

function attribute(r: Reader, o: Json, key: string, depth: number): void {
  const e = r.message(depth + 1);
  push(o, key, keyValue(r, e, depth + 1, undefined));
  r.finish(e);
}

function stringField(r: Reader, o: Json, key: string): void {
  const v = r.string();
  setOrDelete(o, key, v, v.length > 0);
}

function hexField(r: Reader, o: Json, key: string): void {
  const v = r.hex();
  setOrDelete(o, key, v, v.length > 0);
}

function uint32Field(r: Reader, o: Json, key: string): void {
  const v = r.uint32();
  setOrDelete(o, key, v, v !== 0);
}

function fixed64Field(r: Reader, o: Json, key: string): void {
  const v = r.fixed64();
  setOrDelete(o, key, v, v !== '0');
}

function scope(r: Reader, end: number, depth: number, into: InstrumentationScope | undefined): InstrumentationScope {
  const o = (into ?? {}) as Json;
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== LEN) break;
        stringField(r, o, 'name');
        continue;
      case 2:
        if (wire !== LEN) break;
        stringField(r, o, 'version');
        continue;
      case 3:
        if (wire !== LEN) break;
        attribute(r, o, 'attributes', depth);
        continue;
      case 4:
        if (wire !== VARINT) break;
        uint32Field(r, o, 'droppedAttributesCount');
        continue;
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o as InstrumentationScope;
}

function entityRef(r: Reader, end: number, depth: number): Json {
  const o: Json = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== LEN) break;
        stringField(r, o, 'schemaUrl');
        continue;
      case 2:
        if (wire !== LEN) break;
        stringField(r, o, 'type');
        continue;
      case 3:
        if (wire !== LEN) break;
        push(o, 'idKeys', r.string());
        continue;
      case 4:
        if (wire !== LEN) break;
        push(o, 'descriptionKeys', r.string());
        continue;
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o;
}

function resource(r: Reader, end: number, depth: number, into: Resource | undefined): Resource {
  const o = (into ?? {}) as Json;
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== LEN) break;
        attribute(r, o, 'attributes', depth);
        continue;
      case 2:
        if (wire !== VARINT) break;
        uint32Field(r, o, 'droppedAttributesCount');
        continue;
      case 3: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        push(o, 'entityRefs', entityRef(r, e, depth + 1));
        r.finish(e);
        continue;
      }
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o as Resource;
}

function event(r: Reader, end: number, depth: number): SpanEvent {
  const o: Json = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== FIXED64) break;
        fixed64Field(r, o, 'timeUnixNano');
        continue;
      case 2:
        if (wire !== LEN) break;
        stringField(r, o, 'name');
        continue;
      case 3:
        if (wire !== LEN) break;
        attribute(r, o, 'attributes', depth);
        continue;
      case 4:
        if (wire !== VARINT) break;
        uint32Field(r, o, 'droppedAttributesCount');
        continue;
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o as SpanEvent;
}

function link(r: Reader, end: number, depth: number): SpanLink {
  const o: Json = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== LEN) break;
        hexField(r, o, 'traceId');
        continue;
      case 2:
        if (wire !== LEN) break;
        hexField(r, o, 'spanId');
        continue;
      case 3:
        if (wire !== LEN) break;
        stringField(r, o, 'traceState');
        continue;
      case 4:
        if (wire !== LEN) break;
        attribute(r, o, 'attributes', depth);
        continue;
      case 5:
        if (wire !== VARINT) break;
        uint32Field(r, o, 'droppedAttributesCount');
        continue;
      case 6: {
        if (wire !== FIXED32) break;
        const v = r.fixed32();
        setOrDelete(o, 'flags', v, v !== 0);
        continue;
      }
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o as unknown as SpanLink;
}

function status(r: Reader, end: number, depth: number, into: Json | undefined): Json {
  const o = into ?? {};
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 2:
        if (wire !== LEN) break;
        stringField(r, o, 'message');
        continue;
      case 3: {
        if (wire !== VARINT) break;
        const v = r.uint32() | 0;
        setOrDelete(o, 'code', v, v !== 0);
        continue;
      }
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o;
}

function span(r: Reader, end: number, depth: number): Span {
  // The frequent fields are assigned directly (a monomorphic object shape), the rest through the helpers.
  const o: Partial<Span> = {};
  let attributes: KeyValue[] | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1: {
        if (wire !== LEN) break;
        const v = r.hex();
        if (v.length > 0) o.traceId = v;
        else if (o.traceId !== undefined) delete o.traceId;
        continue;
      }
      case 2: {
        if (wire !== LEN) break;
        const v = r.hex();
        if (v.length > 0) o.spanId = v;
        else if (o.spanId !== undefined) delete o.spanId;
        continue;
      }
      case 3:
        if (wire !== LEN) break;
        stringField(r, o as Json, 'traceState');
        continue;
      case 4: {
        if (wire !== LEN) break;
        const v = r.hex();
        if (v.length > 0) o.parentSpanId = v;
        else if (o.parentSpanId !== undefined) delete o.parentSpanId;
        continue;
      }
      case 5: {
        if (wire !== LEN) break;
        const v = r.string();
        if (v.length > 0) o.name = v;
        else if (o.name !== undefined) delete o.name;
        continue;
      }
      case 6: {
        if (wire !== VARINT) break;
        const v = r.uint32() | 0;
        if (v !== 0) o.kind = v;
        else if (o.kind !== undefined) delete o.kind;
        continue;
      }
      case 7: {
        if (wire !== FIXED64) break;
        const v = r.fixed64();
        if (v !== '0') o.startTimeUnixNano = v;
        else if (o.startTimeUnixNano !== undefined) delete o.startTimeUnixNano;
        continue;
      }
      case 8: {
        if (wire !== FIXED64) break;
        const v = r.fixed64();
        if (v !== '0') o.endTimeUnixNano = v;
        else if (o.endTimeUnixNano !== undefined) delete o.endTimeUnixNano;
        continue;
      }
      case 9: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        const kv = keyValue(r, e, depth + 1, undefined);
        r.finish(e);
        if (attributes) attributes.push(kv);
        else o.attributes = attributes = [kv];
        continue;
      }
      case 10:
        if (wire !== VARINT) break;
        uint32Field(r, o as Json, 'droppedAttributesCount');
        continue;
      case 11: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        push(o as Json, 'events', event(r, e, depth + 1));
        r.finish(e);
        continue;
      }
      case 12:
        if (wire !== VARINT) break;
        uint32Field(r, o as Json, 'droppedEventsCount');
        continue;
      case 13: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        push(o as Json, 'links', link(r, e, depth + 1));
        r.finish(e);
        continue;
      }
      case 14:
        if (wire !== VARINT) break;
        uint32Field(r, o as Json, 'droppedLinksCount');
        continue;
      case 15: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        o.status = status(r, e, depth + 1, o.status as Json | undefined);
        r.finish(e);
        continue;
      }
      case 16: {
        if (wire !== FIXED32) break;
        const v = r.fixed32();
        if (v !== 0) o.flags = v;
        else if (o.flags !== undefined) delete o.flags;
        continue;
      }
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o as Span;
}

function scopeSpans(r: Reader, end: number, depth: number): ScopeSpans {
  const o: Json = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        o.scope = scope(r, e, depth + 1, o.scope as InstrumentationScope | undefined);
        r.finish(e);
        continue;
      }
      case 2: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        push(o, 'spans', span(r, e, depth + 1));
        r.finish(e);
        continue;
      }
      case 3:
        if (wire !== LEN) break;
        stringField(r, o, 'schemaUrl');
        continue;
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o as ScopeSpans;
}

function resourceSpans(r: Reader, end: number, depth: number): ResourceSpans {
  const o: Json = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        o.resource = resource(r, e, depth + 1, o.resource as Resource | undefined);
        r.finish(e);
        continue;
      }
      case 2: {
        if (wire !== LEN) break;
        const e = r.message(depth + 1);
        push(o, 'scopeSpans', scopeSpans(r, e, depth + 1));
        r.finish(e);
        continue;
      }
      case 3:
        if (wire !== LEN) break;
        stringField(r, o, 'schemaUrl');
        continue;
    }
    r.skip(wire, tag >>> 3, depth);
  }
  return o as ResourceSpans;
}

/** Decodes an ExportTraceServiceRequest; throws (RangeError or Error) on malformed input. */
export function decodeTracesWire(bytes: Uint8Array): TracesData {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf as SlicingBuffer);
  const o: Json = {};
  const end = buf.length;
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    if (tag >>> 3 === 1 && wire === LEN) {
      const e = r.message(1);
      push(o, 'resourceSpans', resourceSpans(r, e, 1));
      r.finish(e);
      continue;
    }
    r.skip(wire, tag >>> 3, 0);
  }
  return o as TracesData;
}
