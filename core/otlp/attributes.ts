/** Reading and writing OTLP attribute lists (KeyValue[]) of the span model. */
import type { AnyValue, KeyValue } from './model.ts';

export type AttributeValue = string | number | boolean;

export function toAnyValue(v: AttributeValue): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}

/** The value as ClickHouse's Map(String,String) holds it (the contrib exporter's AsString). */
export function anyValueToString(v: AnyValue | undefined): string {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return JSON.stringify(anyValueToJs(v));
}

export function anyValueToJs(v: AnyValue | undefined): unknown {
  if (!v) return null;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValueToJs);
  if (v.kvlistValue) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, anyValueToJs(kv.value)]));
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.stringValue ?? v.doubleValue ?? v.boolValue ?? v.bytesValue ?? null;
}

export function getAttribute(attrs: KeyValue[] | undefined, key: string): AnyValue | undefined {
  return attrs?.find((a) => a.key === key)?.value;
}

export function getString(attrs: KeyValue[] | undefined, key: string): string | undefined {
  const v = getAttribute(attrs, key);
  return v === undefined ? undefined : anyValueToString(v);
}

export function getNumber(attrs: KeyValue[] | undefined, key: string): number | undefined {
  const v = getAttribute(attrs, key);
  if (!v) return undefined;
  const n = Number(v.intValue ?? v.doubleValue ?? v.stringValue);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Sets (replacing) an attribute; returns the list so a missing list can be created inline. An
 * existing entry is replaced by a new one, never changed: a processor's copied list still
 * shares its entries with the input message, which must stay untouched.
 */
export function setAttribute(attrs: KeyValue[] | undefined, key: string, value: AttributeValue): KeyValue[] {
  const list = attrs ?? [];
  const i = list.findIndex((a) => a.key === key);
  if (i >= 0) list[i] = { key, value: toAnyValue(value) };
  else list.push({ key, value: toAnyValue(value) });
  return list;
}

export function attributesToMap(attrs: KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of attrs ?? []) out[a.key] = anyValueToString(a.value);
  return out;
}
