/**
 * Rows and their JSON text: JSONCompactEachRow (one array per row, the column names once in the
 * INSERT) for inserts, JSONEachRow (one object per row, self-describing) for the spool. 64-bit values (DateTime64(9) nanoseconds, UInt64 counts) are
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
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
      return number(v);
    case 'object':
      if (!Array.isArray(v)) return JSON.stringify(v);
      if (v.length === 0) return '[]';
      // Arrays without bigints or non-finite numbers take the native path.
      return typeof v[0] === 'bigint' || typeof v[0] === 'number' ? `[${v.map(value).join(',')}]` : JSON.stringify(v);
    default:
      return JSON.stringify(v);
  }
}

/** `"key":` per column name, built once: every row of a table repeats the same names. */
const keyPrefixes = new Map<string, string>();

function keyPrefix(key: string): string {
  let p = keyPrefixes.get(key);
  if (p === undefined) keyPrefixes.set(key, (p = `${JSON.stringify(key)}:`));
  return p;
}

export function jsonEachRow(rows: Row[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    const parts: string[] = [];
    for (const key in row) parts.push(keyPrefix(key) + value(row[key]!));
    lines.push(`{${parts.join(',')}}`);
  }
  lines.push('');
  return lines.join('\n');
}

/** The INSERT's column list and one JSON array of values per row, in that order. */
export interface CompactRows {
  columns: string[];
  body: string;
}

/**
 * Rows of one table as JSONCompactEachRow: about half the bytes of JSONEachRow, and cheaper for
 * ClickHouse to parse. The columns are the first row's; every row of a table has the same.
 */
export function jsonCompactEachRow(rows: Row[]): CompactRows {
  const columns = rows.length > 0 ? Object.keys(rows[0]!) : [];
  // Consecutive rows often hold the same value in a column (the resource's attribute map, the
  // service and scope names): its text is reused instead of serialized again.
  const lastValues: (ColumnValue | undefined)[] = [];
  const lastTexts: string[] = [];
  const lines: string[] = [];
  const texts: string[] = new Array<string>(columns.length);
  for (const row of rows) {
    for (let i = 0; i < columns.length; i++) {
      const v = row[columns[i]!];
      if (v === undefined) throw new Error(`row has no column ${columns[i]} (the table's rows must share their columns)`);
      if (v !== lastValues[i]) {
        lastTexts[i] = value(v);
        lastValues[i] = v;
      }
      texts[i] = lastTexts[i]!;
    }
    lines.push(`[${texts.join(',')}]`);
  }
  lines.push('');
  return { columns, body: lines.join('\n') };
}
