/**
 * Exactly-once on a durable bus. Before rows are inserted, the highest offset per
 * (topic, partition) they came from is recorded. When a partition shows up for the first time in
 * this process, its recorded offset is read back: deliveries at or below it may already be stored
 * (the process died between insert and offset commit), and only their rows are checked against the
 * tables. Recording also raises the in-memory mark, so a batch redelivered after a failed export
 * in this same process is checked the same way.
 */
import { queryRows, type ClickHouseClient } from './client.ts';

export interface Position {
  topic: string;
  partition: number;
  offset: string;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export function highestOffsets(positions: Position[]): Map<string, Position> {
  const out = new Map<string, Position>();
  for (const p of positions) {
    const k = tpKey(p.topic, p.partition);
    const seen = out.get(k);
    if (!seen || BigInt(p.offset) > BigInt(seen.offset)) out.set(k, p);
  }
  return out;
}

export class ExportProgress {
  /** Highest offset possibly stored per (topic, partition); -1 = none. */
  private readonly marks = new Map<string, bigint>();

  constructor(
    private readonly client: ClickHouseClient,
    private readonly table: string,
    private readonly exporter: string,
  ) {}

  /** Loads the recorded marks of partitions not seen yet; returns a test for "may already be stored". */
  async possiblyStored(positions: Position[]): Promise<(p: Position) => boolean> {
    const unseen = new Map<string, Position>();
    for (const p of positions) {
      const k = tpKey(p.topic, p.partition);
      if (!this.marks.has(k)) unseen.set(k, p);
    }
    if (unseen.size > 0) {
      const topics = [...new Set([...unseen.values()].map((p) => p.topic))];
      const rows = await queryRows<{ topic: string; partition: number; max_offset: string }>(
        this.client,
        `SELECT topic, partition, toString(max(max_offset)) AS max_offset FROM ${this.table}
         WHERE exporter = {exporter:String} AND topic IN {topics:Array(String)} GROUP BY topic, partition`,
        { exporter: this.exporter, topics },
      );
      const recorded = new Map(rows.map((r) => [tpKey(r.topic, Number(r.partition)), BigInt(r.max_offset)]));
      for (const k of unseen.keys()) this.marks.set(k, recorded.get(k) ?? -1n);
    }
    return (p) => BigInt(p.offset) <= (this.marks.get(tpKey(p.topic, p.partition)) ?? -1n);
  }

  async record(positions: Position[]): Promise<void> {
    const highest = [...highestOffsets(positions).values()];
    if (highest.length === 0) return;
    await this.client.insert({
      table: this.table,
      values: highest.map((p) => ({ exporter: this.exporter, topic: p.topic, partition: p.partition, max_offset: p.offset })),
      format: 'JSONEachRow',
    });
    for (const p of highest) {
      const k = tpKey(p.topic, p.partition);
      const offset = BigInt(p.offset);
      if (offset > (this.marks.get(k) ?? -1n)) this.marks.set(k, offset);
    }
  }
}
