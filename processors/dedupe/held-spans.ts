/**
 * Agent spans in their merge window: merged views not written yet, each with the time its
 * window ends and where its views came from on the bus (the first offset of each partition),
 * so that no input offset whose spans are still held gets committed. Not bounded by
 * `max_entries`: what is held is data in flight (the input of one merge window).
 */
import { earlierOffset } from '../../core/bus/bus.ts';
import type { MessagePosition } from '../../core/component.ts';
import type { MergedSpan } from './merge.ts';

export interface Hold {
  merged: MergedSpan;
  /** The span as last written, when this hold merges late views into it. */
  written?: MergedSpan;
  dueAt: number;
  /** The first offset of each partition that a view of the span came from. */
  from: Map<number, string>;
}

const keyOf = (m: MergedSpan) => m.traceId + m.spanId;

export class HeldSpans {
  /** By trace id + span id, in the order their windows end (the window is the same for all). */
  private held = new Map<string, Hold>();
  /** Taken by the last flush; written (forgotten here) on commit, held again on abort. */
  private flushing: Hold[] = [];

  get size(): number {
    return this.held.size + this.flushing.length;
  }

  get(traceId: string, spanId: string): Hold | undefined {
    return this.held.get(traceId + spanId);
  }

  hold(hold: Omit<Hold, 'from'>, source: MessagePosition | undefined): void {
    const held: Hold = { ...hold, from: new Map() };
    this.addSource(held, source);
    this.held.set(keyOf(hold.merged), held);
  }

  /** Notes that a view from `source` was merged into the hold. */
  addSource(hold: Hold, source: MessagePosition | undefined): void {
    if (!source) return;
    const first = earlierOffset(hold.from.get(source.partition), source.offset);
    hold.from.set(source.partition, first!);
  }

  /**
   * Drops the holds with views from these partitions (their messages are delivered again to
   * whichever worker owns the partitions now); returns how many. Called between flushes, so
   * nothing taken by a flush is pending.
   */
  dropPartitions(partitions: ReadonlySet<number>): number {
    let dropped = 0;
    for (const [key, hold] of this.held) {
      if (![...hold.from.keys()].some((p) => partitions.has(p))) continue;
      this.held.delete(key);
      dropped++;
    }
    return dropped;
  }

  /** The partitions the views of the holds whose window ended by `now` came from. */
  partitionsDue(now: number): Set<number> {
    const partitions = new Set<number>();
    for (const hold of this.held.values()) {
      if (hold.dueAt > now) break;
      for (const p of hold.from.keys()) partitions.add(p);
    }
    return partitions;
  }

  /** Takes the holds whose window ended by `now` (Infinity: all). */
  takeDue(now: number): Hold[] {
    const due: Hold[] = [];
    for (const [key, hold] of this.held) {
      if (hold.dueAt > now) break;
      this.held.delete(key);
      due.push(hold);
    }
    return due;
  }

  /** A hold taken to be written: its input stays held until commit. */
  writing(hold: Hold): void {
    this.flushing.push(hold);
  }

  /** The holds taken since the last commit or abort, now written. */
  written(): Hold[] {
    const done = this.flushing;
    this.flushing = [];
    return done;
  }

  /** Holds again what was taken since the last commit (its write failed), first in line. */
  restore(): void {
    if (this.flushing.length === 0) return;
    this.held = new Map([...this.flushing.map((h) => [keyOf(h.merged), h] as const), ...this.held]);
    this.flushing = [];
  }

  /** The first offset of the partition that a held (or unwritten) span came from. */
  heldFrom(partition: number): string | undefined {
    let first: string | undefined;
    for (const hold of this.held.values()) first = earlierOffset(first, hold.from.get(partition));
    for (const hold of this.flushing) first = earlierOffset(first, hold.from.get(partition));
    return first;
  }
}
