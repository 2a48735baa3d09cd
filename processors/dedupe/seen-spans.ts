/**
 * The spans dedupe has let through, with what it keeps of each (for an agent span, its merge
 * as written), by trace and by the input partition of the trace (Kafka keys messages by trace
 * id, so one worker owns a trace's spans: the worker that owns its partition), and bounded: a
 * trace not seen for `windowMs` is forgotten, and beyond `maxEntries` spans the least recently
 * seen traces go first.
 */
interface TraceEntry<V> {
  spans: Map<string, V>;
  lastSeen: number;
  /** The bus partition of the trace, once known. */
  partition?: number;
}

export class SeenSpans<V> {
  /** Least recently seen first: a trace is re-inserted whenever it is seen. */
  private readonly traces = new Map<string, TraceEntry<V>>();
  private entries = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Number of spans remembered. */
  get size(): number {
    return this.entries;
  }

  /** The spans remembered for the trace (within the window), if any. */
  spansOf(traceId: string): ReadonlyMap<string, V> | undefined {
    const trace = this.traces.get(traceId);
    return trace && trace.lastSeen >= this.now() - this.windowMs ? trace.spans : undefined;
  }

  /** Remembers the span (replacing what was kept of it); false when it was already remembered. */
  add(traceId: string, spanId: string, value: V, partition?: number): boolean {
    return this.addAll(traceId, [[spanId, value]], partition) === 1;
  }

  /**
   * Remembers spans of one trace, seeing the trace once (one clock read, one move in the
   * recency order); returns how many were not remembered yet.
   */
  addAll(traceId: string, spans: Iterable<readonly [string, V]>, partition?: number): number {
    const now = this.now();
    this.forgetOlderThan(now - this.windowMs);
    let trace = this.traces.get(traceId);
    if (trace) this.traces.delete(traceId);
    else trace = { spans: new Map(), lastSeen: now };
    trace.lastSeen = now;
    if (partition !== undefined) trace.partition = partition;
    this.traces.set(traceId, trace);
    const before = trace.spans.size;
    for (const [spanId, value] of spans) trace.spans.set(spanId, value);
    const added = trace.spans.size - before;
    this.entries += added;
    // Evicting once after the whole batch forgets the same traces and spans as after each span:
    // counts only grow within it, so the least recently seen prefix to drop only grows too.
    this.enforceLimit(trace);
    return added;
  }

  /** Forgets the traces of every partition but `kept` (another worker owns them now); returns how many spans. */
  keepPartitions(kept: ReadonlySet<number>): number {
    let forgotten = 0;
    for (const [traceId, trace] of this.traces) {
      if (trace.partition === undefined || kept.has(trace.partition)) continue;
      this.traces.delete(traceId);
      forgotten += trace.spans.size;
    }
    this.entries -= forgotten;
    return forgotten;
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [traceId, trace] of this.traces) {
      if (trace.lastSeen >= cutoff) return;
      this.traces.delete(traceId);
      this.entries -= trace.spans.size;
    }
  }

  private enforceLimit(current: TraceEntry<V>): void {
    while (this.entries > this.maxEntries) {
      const [oldestId, oldest] = this.traces.entries().next().value!;
      if (oldest === current) {
        // A single trace larger than the limit: forget its oldest spans.
        current.spans.delete(current.spans.keys().next().value!);
        this.entries--;
      } else {
        this.traces.delete(oldestId);
        this.entries -= oldest.spans.size;
      }
    }
  }
}
