/** Value conversions shared by the row mappers, as the contrib exporter writes them. */
import { getAttribute, anyValueToString } from '../../core/otlp/attributes.ts';
import type { KeyValue } from '../../core/otlp/model.ts';

/** Thrown for a record the mapper cannot turn into a row; names the field. */
export class RowMappingError extends Error {
  override name = 'RowMappingError';
}

const UNSIGNED = /^\d+$/;

/** A uint64 decimal string (nanoseconds, counts) as a bigint; absent = 0. */
export function uint64(v: string | number | undefined, where: string): bigint {
  if (v === undefined || v === '') return 0n;
  const s = String(v);
  if (!UNSIGNED.test(s)) throw new RowMappingError(`${where}: must be an unsigned integer (got ${JSON.stringify(v)})`);
  return BigInt(s);
}

/** Trace/span ids as lowercase hex; the all-zero (invalid) id becomes "" like TraceIDToHexOrEmptyString. */
export function hexOrEmpty(id: string | undefined): string {
  return !id || /^0+$/.test(id) ? '' : id.toLowerCase();
}

/** Exemplar ids are hex-encoded as they are, so a missing id is all zeros. */
export function hexOrZeros(id: string | undefined, bytes: number): string {
  return id ? id.toLowerCase() : '0'.repeat(bytes * 2);
}

/** service.name as pdata's Str(): only a string value counts. */
export function serviceNameStr(attrs: KeyValue[] | undefined): string {
  return getAttribute(attrs, 'service.name')?.stringValue ?? '';
}

/** service.name as pdata's AsString() (what the metrics tables use). */
export function serviceNameAsString(attrs: KeyValue[] | undefined): string {
  const v = getAttribute(attrs, 'service.name');
  return v ? anyValueToString(v) : '';
}

/** An OTLP int or double value as the Float64 the tables store. */
export function float(asDouble: number | undefined, asInt: string | undefined): number {
  if (asDouble !== undefined) return asDouble;
  return asInt !== undefined ? Number(asInt) : 0;
}
