/**
 * The dedupe processor (README): a foreign span — one without `agentotel.capture.path` — whose
 * identity (trace id, span id) was already let through is dropped; the views of an agent span
 * from the capture paths are held for the merge window, merged, and written once, and a view
 * that adds to a span already written writes it again with the next `agentotel.span.version`.
 */
import type { MessagePosition, Processor, ProcessorContext, PublishedMessage } from '../../core/component.ts';
import { isSpanId, isTraceId } from '../../core/ids.ts';
import type { Counter } from '../../core/metrics.ts';
import type { ResourceSpans, TracesData } from '../../core/otlp/model.ts';
import { eachSpan, filterSpans, type SpanContext } from '../../core/otlp/traces.ts';
import type { HeldSpans } from './held-spans.ts';
import {
  capturePaths,
  cloneMerge,
  emptyMerge,
  mergedOutput,
  mergeFromOutput,
  mergeOnto,
  mergeView,
  type MergedOutput,
  type MergedSpan,
} from './merge.ts';
import type { SeenSpans } from './seen-spans.ts';

/**
 * How far before an assignment the output is read again when settling it (see settle): a write
 * of the former owner that was in flight when it lost the partition is older than the
 * assignment by the rebalance's duration.
 */
const SETTLE_LOOKBACK_MS = 60_000;
/** Stragglers of a former owner land within moments of its rebalance: a partition is settled within this long, or not at all. */
const SETTLE_WITHIN_MS = 10 * 60_000;

export interface DedupeCounters {
  /** Foreign spans seen before, and views that added nothing. */
  dropped: Counter;
  /** Views merged into a held or written view of the same span. */
  merged: Counter;
  /** Spans written again, with a higher version. */
  lateRewrites: Counter;
  labels: Record<string, string>;
}

/** What is kept of a span let through: its merge as written, or nothing but its identity (foreign). */
export type SeenSpan = MergedSpan | null;

export class DedupeProcessor implements Processor {
  /**
   * Foreign span ids by trace let through in the batch in flight. They become `seen` only on
   * commit, once the next stage acknowledged them: a batch that failed is delivered again and
   * must pass again.
   */
  private pendingForeign = new Map<string, { spans: Map<string, null>; partition?: number }>();

  /** Partitions assigned whose output was not read again since (see settle), with when they were assigned. */
  private unsettled = new Map<number, number>();

  constructor(
    private readonly seen: SeenSpans<SeenSpan>,
    private readonly held: HeldSpans,
    private readonly mergeWindowMs: number,
    private readonly recentOutput: ProcessorContext['recentOutput'],
    private readonly counters: DedupeCounters,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes on input partitions, at start and after each rebalance: forgets the traces of other
   * partitions (another worker owns them now) and rebuilds those of these from what was written
   * to their output partitions — by this worker before a restart, or by their former owner — so
   * that what is delivered again is recognised and not written twice.
   */
  async assign(partitions: number[]): Promise<void> {
    this.seen.keepPartitions(new Set(partitions));
    const assignedAt = this.now();
    await this.remember(this.recentOutput({ partitions }));
    this.unsettled = new Map(partitions.map((p) => [p, assignedAt]));
  }

  /** Partitions taken away: what is held of them is dropped, their new owner is delivered it again and writes it. */
  revoke(partitions: number[]): void {
    this.held.dropPartitions(new Set(partitions));
  }

  /** Remembers written spans read back from the output topic (a later version replaces an earlier one). */
  private async remember(output: AsyncIterable<PublishedMessage>): Promise<void> {
    for await (const { partition, value } of output) {
      for (const view of eachSpan(value)) {
        const { traceId, spanId } = view.span;
        const paths = capturePaths(view.span);
        const kept = paths ? mergeFromOutput(view, paths) : null;
        const earlier = this.seen.spansOf(traceId)?.get(spanId);
        if (!kept || !earlier || earlier.version < kept.version) this.seen.add(traceId, spanId, kept, partition);
      }
    }
  }

  /**
   * A former owner may have been writing spans of a partition while it lost it (a flush in
   * flight at the rebalance), after this worker's rebuild read the output. Before this worker
   * first writes spans of a partition it got — a merge window after it got it — it reads the
   * partition's output since then again, and due spans are merged onto what that wrote.
   */
  private async settle(now: number): Promise<void> {
    for (const [p, at] of this.unsettled) if (at < now - SETTLE_WITHIN_MS) this.unsettled.delete(p);
    const partitions = [...this.held.partitionsDue(now)].filter((p) => this.unsettled.has(p));
    if (partitions.length === 0) return;
    const since = Math.min(...partitions.map((p) => this.unsettled.get(p)!));
    await this.remember(this.recentOutput({ partitions, sinceMs: this.now() - since + SETTLE_LOOKBACK_MS }));
    for (const p of partitions) this.unsettled.delete(p);
  }

  processTraces(data: TracesData, source?: MessagePosition): TracesData {
    const views = [...eachSpan(data)];
    checkIdentities(views);
    // A message holds the spans of one trace: each trace's sets are looked up once.
    let traceId: string | undefined;
    let seen: ReadonlyMap<string, SeenSpan> | undefined;
    let pending: Map<string, null> | undefined;
    let dropped = 0;
    const keep = views.map((view) => {
      const { span } = view;
      const paths = capturePaths(span);
      if (paths) {
        this.mergeAgentView(view, paths, source);
        return false;
      }
      if (span.traceId !== traceId) {
        traceId = span.traceId;
        seen = this.seen.spansOf(traceId);
        let trace = this.pendingForeign.get(traceId);
        if (!trace) this.pendingForeign.set(traceId, (trace = { spans: new Map(), partition: source?.partition }));
        pending = trace.spans;
      }
      if (pending!.has(span.spanId) || seen?.has(span.spanId)) {
        dropped++;
        return false;
      }
      pending!.set(span.spanId, null);
      return true;
    });
    if (dropped > 0) this.counters.dropped.inc(this.counters.labels, dropped);
    if (keep.every((k) => k)) return data;
    // filterSpans visits the spans in the order eachSpan listed them.
    let i = 0;
    return filterSpans(data, () => keep[i++]!);
  }

  private mergeAgentView(view: SpanContext, paths: string[], source: MessagePosition | undefined): void {
    const { traceId, spanId } = view.span;
    const { labels } = this.counters;
    const hold = this.held.get(traceId, spanId);
    if (hold) {
      if (mergeView(hold.merged, view, paths)) {
        this.held.addSource(hold, source);
        this.counters.merged.inc(labels);
      } else this.counters.dropped.inc(labels);
      return;
    }
    const written = this.seen.spansOf(traceId)?.get(spanId);
    // A late view: merged with what was written (a copy, which is written only if it differs).
    const merged = written ? cloneMerge(written) : emptyMerge(traceId, spanId);
    if (!mergeView(merged, view, paths)) {
      this.counters.dropped.inc(labels);
      return;
    }
    if (written) this.counters.merged.inc(labels);
    this.held.hold({ merged, written: written ?? undefined, dueAt: this.now() + this.mergeWindowMs }, source);
  }

  async flush(now: number): Promise<TracesData> {
    await this.settle(now);
    const outputs: MergedOutput[] = [];
    for (const hold of this.held.takeDue(now)) {
      const written = this.seen.spansOf(hold.merged.traceId)?.get(hold.merged.spanId);
      if (written && written !== hold.written) {
        // Written meanwhile by another worker (settle): what this one merged goes onto that.
        hold.merged = mergeOnto(written, hold.merged);
        hold.written = written;
      }
      const version = hold.merged.version + 1;
      const output = mergedOutput(hold.merged, version);
      // Merge, then compare: views redelivered after a restart may change a field on the way
      // (a path's earlier view, then its later one) and end where the written span is.
      if (hold.written && sameOutput(output, mergedOutput(hold.written, version))) {
        this.counters.dropped.inc(this.counters.labels);
        continue;
      }
      this.held.writing(hold);
      outputs.push(output);
    }
    return groupByResource(outputs);
  }

  heldFrom(partition: number): string | undefined {
    return this.held.heldFrom(partition);
  }

  commit(): void {
    for (const [traceId, { spans, partition }] of this.pendingForeign) if (spans.size > 0) this.seen.addAll(traceId, spans, partition);
    this.pendingForeign.clear();
    for (const { merged, from } of this.held.written()) {
      merged.version++;
      if (merged.version > 1) this.counters.lateRewrites.inc(this.counters.labels);
      this.seen.add(merged.traceId, merged.spanId, merged, from.keys().next().value);
    }
  }

  abort(): void {
    this.pendingForeign.clear();
    this.held.restore();
  }
}

const sameOutput = (a: MergedOutput, b: MergedOutput) => JSON.stringify(a) === JSON.stringify(b);

/** One resource (and scope) entry per distinct resource and scope, shared by their spans. */
function groupByResource(outputs: MergedOutput[]): TracesData {
  const resourceSpans = new Map<string, ResourceSpans>();
  for (const { resource, scope, span } of outputs) {
    const key = JSON.stringify(resource.attributes);
    let rs = resourceSpans.get(key);
    if (!rs) resourceSpans.set(key, (rs = { resource, scopeSpans: [] }));
    const scopeKey = JSON.stringify(scope ?? null);
    let ss = rs.scopeSpans!.find((s) => JSON.stringify(s.scope ?? null) === scopeKey);
    if (!ss) rs.scopeSpans!.push((ss = { scope, spans: [] }));
    ss.spans!.push(span);
  }
  return { resourceSpans: [...resourceSpans.values()] };
}

/** Throws on the first span without a valid identity, before anything of the message is remembered. */
function checkIdentities(views: SpanContext[]): void {
  let validTraceId: string | undefined;
  for (const { span } of views) {
    if ((span.traceId !== validTraceId && !isTraceId(span.traceId)) || !isSpanId(span.spanId)) {
      throw new Error(
        `span ${JSON.stringify(span.name)} has an invalid identity (traceId ${JSON.stringify(span.traceId)}, spanId ${JSON.stringify(span.spanId)}): expected 32 and 16 lowercase hex digits, not all zero`,
      );
    }
    validTraceId = span.traceId;
  }
}
