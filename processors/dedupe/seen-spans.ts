/**
 * The span identities dedupe has let through, partitioned by trace (Kafka keys messages by
 * trace id, so one worker owns a trace's spans) and bounded: a trace not seen for `windowMs`
 * is forgotten, and beyond `maxEntries` identities the least recently seen traces go first.
 */
interface TraceEntry {
  spanIds: Set<string>;
  lastSeen: number;
}

export class SeenSpans {
  /** Least recently seen first: a trace is re-inserted whenever it is seen. */
  private readonly traces = new Map<string, TraceEntry>();
  private entries = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Number of span identities remembered. */
  get size(): number {
    return this.entries;
  }

  /** The span ids remembered for the trace (within the window), if any. */
  spansOf(traceId: string): ReadonlySet<string> | undefined {
    const trace = this.traces.get(traceId);
    return trace && trace.lastSeen >= this.now() - this.windowMs ? trace.spanIds : undefined;
  }

  /** Remembers the span; false when it was already remembered. */
  add(traceId: string, spanId: string): boolean {
    return this.addAll(traceId, [spanId]) === 1;
  }

  /**
   * Remembers spans of one trace, seeing the trace once (one clock read, one move in the
   * recency order); returns how many were not remembered yet.
   */
  addAll(traceId: string, spanIds: Iterable<string>): number {
    const now = this.now();
    this.forgetOlderThan(now - this.windowMs);
    let trace = this.traces.get(traceId);
    if (trace) this.traces.delete(traceId);
    else trace = { spanIds: new Set(), lastSeen: now };
    trace.lastSeen = now;
    this.traces.set(traceId, trace);
    const before = trace.spanIds.size;
    for (const spanId of spanIds) trace.spanIds.add(spanId);
    const added = trace.spanIds.size - before;
    this.entries += added;
    // Evicting once after the whole batch forgets the same traces and spans as after each span:
    // counts only grow within it, so the least recently seen prefix to drop only grows too.
    this.enforceLimit(trace);
    return added;
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [traceId, trace] of this.traces) {
      if (trace.lastSeen >= cutoff) return;
      this.traces.delete(traceId);
      this.entries -= trace.spanIds.size;
    }
  }

  private enforceLimit(current: TraceEntry): void {
    while (this.entries > this.maxEntries) {
      const [oldestId, oldest] = this.traces.entries().next().value!;
      if (oldest === current) {
        // A single trace larger than the limit: forget its oldest spans.
        current.spanIds.delete(current.spanIds.values().next().value!);
        this.entries--;
      } else {
        this.traces.delete(oldestId);
        this.entries -= oldest.spanIds.size;
      }
    }
  }
}
