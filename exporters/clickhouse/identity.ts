/**
 * What makes a stored row "the same row" per table, to drop rows that are already stored when a
 * batch may have been written before (bus redelivery after a crash, a retried insert whose first
 * attempt may have landed, a spool file re-driven after a crash).
 *   traces:  (TraceId, SpanId)
 *   logs:    (Timestamp, TraceId, SpanId, SeverityNumber, ServiceName, Body): logs carry no id
 *   metrics: (ServiceName, MetricName, Attributes, StartTimeUnix, TimeUnix): one point per series and time
 * Matching is by count: a row is dropped once per stored copy, so genuine repeats inside new data survive.
 */
import { queryRows, type ClickHouseClient } from './client.ts';
import type { ColumnValue, Row } from './json-each-row.ts';
import type { MetricType } from './metric-rows.ts';

export type TableKind = 'traces' | 'logs' | MetricType;

interface Identity {
  /** DateTime64(9) column that bounds the lookup. */
  time: string;
  /** String column whose values narrow the lookup further. */
  narrow: string;
  columns: string[];
}

const METRIC_IDENTITY: Identity = { time: 'TimeUnix', narrow: 'MetricName', columns: ['ServiceName', 'MetricName', 'Attributes', 'StartTimeUnix', 'TimeUnix'] };

const IDENTITY: Record<TableKind, Identity> = {
  traces: { time: 'Timestamp', narrow: 'TraceId', columns: ['TraceId', 'SpanId'] },
  logs: { time: 'Timestamp', narrow: 'ServiceName', columns: ['Timestamp', 'TraceId', 'SpanId', 'SeverityNumber', 'ServiceName', 'Body'] },
  gauge: METRIC_IDENTITY,
  sum: METRIC_IDENTITY,
  histogram: METRIC_IDENTITY,
  exponential_histogram: METRIC_IDENTITY,
  summary: METRIC_IDENTITY,
};

const NANOSECOND_COLUMNS = new Set(['Timestamp', 'StartTimeUnix', 'TimeUnix']);

/** A row's identity and where to look for it; plain strings so a spool file can carry it. */
export interface Candidate {
  key: string;
  time: string;
  narrow: string;
}

function keyPart(v: ColumnValue | undefined): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    return JSON.stringify(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  return String(v);
}

const keyOf = (values: (ColumnValue | undefined)[]): string => values.map(keyPart).join('\u0000');

export function candidateOf(kind: TableKind, row: Row): Candidate {
  const identity = IDENTITY[kind];
  return { key: keyOf(identity.columns.map((c) => row[c])), time: String(row[identity.time]), narrow: String(row[identity.narrow]) };
}

/** How many copies of each candidate key the table already holds. */
export async function storedCopies(client: ClickHouseClient, table: string, kind: TableKind, candidates: Candidate[]): Promise<Map<string, number>> {
  const copies = new Map<string, number>();
  if (candidates.length === 0) return copies;
  const identity = IDENTITY[kind];
  let lo = BigInt(candidates[0]!.time);
  let hi = lo;
  for (const c of candidates) {
    const t = BigInt(c.time);
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  // Aliases k0, k1, ...: an alias named like its column would shadow the column in WHERE.
  const columns = identity.columns.map((c, i) => `${NANOSECOND_COLUMNS.has(c) ? `toString(toUnixTimestamp64Nano(${c}))` : c} AS k${i}`).join(', ');
  const rows = await queryRows<Record<string, ColumnValue>>(
    client,
    `SELECT ${columns} FROM ${table}
     WHERE ${identity.time} >= fromUnixTimestamp64Nano(toInt64(${lo})) AND ${identity.time} <= fromUnixTimestamp64Nano(toInt64(${hi}))
       AND ${identity.narrow} IN {narrow:Array(String)}`,
    { narrow: [...new Set(candidates.map((c) => c.narrow))] },
  );
  for (const row of rows) {
    const key = keyOf(identity.columns.map((_, i) => row[`k${i}`]));
    copies.set(key, (copies.get(key) ?? 0) + 1);
  }
  return copies;
}

/** Indexes of the candidates that are not stored yet (consuming one stored copy per match). */
export function notStored(candidates: Candidate[], copies: Map<string, number>): number[] {
  const keep: number[] = [];
  candidates.forEach((c, i) => {
    const n = copies.get(c.key) ?? 0;
    if (n > 0) copies.set(c.key, n - 1);
    else keep.push(i);
  });
  return keep;
}
