/**
 * Rows and their JSONEachRow text. 64-bit values (DateTime64(9) nanoseconds, UInt64 counts) are
 * bigints and are written as bare JSON integers: ClickHouse reads a bare integer into
 * DateTime64(9) as nanoseconds whatever `date_time_input_format` is, where a string would go
 * through its date parsing heuristics.
 */
export type ColumnValue = string | number | boolean | bigint | Record<string, string> | ColumnValue[];
export type Row = Record<string, ColumnValue>;

function number(n: number): string {
  if (Number.isFinite(n)) return JSON.stringify(n);
  // ClickHouse reads quoted nan/inf into Float64; JSON.stringify would write null (read as 0).
  return Number.isNaN(n) ? '"nan"' : n > 0 ? '"inf"' : '"-inf"';
}

function value(v: ColumnValue): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return number(v);
  if (Array.isArray(v)) return `[${v.map(value).join(',')}]`;
  return JSON.stringify(v);
}

export function jsonEachRow(rows: Row[]): string {
  let out = '';
  for (const row of rows) {
    let line = '';
    for (const key in row) line += `${line ? ',' : '{'}${JSON.stringify(key)}:${value(row[key]!)}`;
    out += `${line || '{'}}\n`;
  }
  return out;
}
