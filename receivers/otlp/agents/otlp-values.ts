/**
 * Reading agent telemetry as the agents really send it: numbers and booleans sometimes as
 * strings, times as decimal nanoseconds. Shared by the agent formats of the OTLP receiver.
 */
import { toNs } from '../../../core/agent/session-spans.ts';
import { anyValueToString, type AttributeValue } from '../../../core/otlp/attributes.ts';
import type { AnyValue, KeyValue, LogRecord } from '../../../core/otlp/model.ts';
import type { Attributes } from './capture-set.ts';

/** The attributes of one record, span or resource, read tolerantly. */
export class AttributeReader {
  private readonly values = new Map<string, AnyValue | undefined>();

  constructor(list: KeyValue[] | undefined) {
    for (const kv of list ?? []) this.values.set(kv.key, kv.value);
  }

  keys(): IterableIterator<string> {
    return this.values.keys();
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** A non-empty string (other scalar types as their text); undefined when absent or empty. */
  string(key: string): string | undefined {
    const v = this.values.get(key);
    if (v === undefined) return undefined;
    const s = anyValueToString(v);
    return s === '' ? undefined : s;
  }

  /** A finite number, also from a numeric string ("47"). */
  number(key: string): number | undefined {
    const v = this.values.get(key);
    if (v === undefined) return undefined;
    const raw = v.intValue ?? v.doubleValue ?? v.stringValue;
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    return Number.isFinite(n) ? n : undefined;
  }

  /** A boolean, also from "true"/"false". */
  boolean(key: string): boolean | undefined {
    const v = this.values.get(key);
    if (v?.boolValue !== undefined) return v.boolValue;
    const s = v?.stringValue?.toLowerCase();
    return s === 'true' ? true : s === 'false' ? false : undefined;
  }

  /** Every attribute whose key `keep` accepts, as span attribute values. */
  pick(keep: (key: string) => boolean): Attributes {
    const out: Attributes = {};
    for (const [key, v] of this.values) if (keep(key)) out[key] = toAttributeValue(v);
    return out;
  }
}

/** Scalars as they are (64-bit ints as numbers); arrays and maps as their JSON text, as ClickHouse stores them. */
export function toAttributeValue(v: AnyValue | undefined): AttributeValue | undefined {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return anyValueToString(v);
}

/** Decimal nanoseconds (OTLP's fixed64 as a string); undefined for absent or zero. */
export function nanos(value: string | undefined): bigint | undefined {
  if (!value || !/^\d+$/.test(value)) return undefined;
  const ns = BigInt(value);
  return ns > 0n ? ns : undefined;
}

export const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/** When a log record's event happened: its time, else when it was observed, else an `event.timestamp` attribute. */
export function recordTimeNs(record: LogRecord, attrs: AttributeReader): bigint | undefined {
  return nanos(record.timeUnixNano) ?? nanos(record.observedTimeUnixNano) ?? toNs(attrs.string('event.timestamp'));
}
