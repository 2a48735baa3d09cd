/**
 * The dedupe processor (README): a foreign span — one without `agentotel.capture.path` — whose
 * identity (trace id, span id) was already let through is dropped; the views of an agent span
 * from the capture paths are held for the merge window, merged, and written once, and a view
 * that adds to a span already written writes it again with the next `agentotel.span.version`.
 */
import type { MessagePosition, Processor } from '../../core/component.ts';
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
  mergeView,
  type MergedOutput,
  type MergedSpan,
} from './merge.ts';
import type { SeenSpans } from './seen-spans.ts';

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
  private pendingForeign = new Map<string, Map<string, null>>();

  constructor(
    private readonly seen: SeenSpans<SeenSpan>,
    private readonly held: HeldSpans,
    private readonly mergeWindowMs: number,
    private readonly recentOutput: () => AsyncIterable<TracesData>,
    private readonly counters: DedupeCounters,
    private readonly now: () => number = Date.now,
  ) {}

  /** Remembers what was written before a restart, so it is recognised and not written twice. */
  async start(): Promise<void> {
    for await (const data of this.recentOutput()) {
      for (const view of eachSpan(data)) {
        const { traceId, spanId } = view.span;
        const paths = capturePaths(view.span);
        const kept = paths ? mergeFromOutput(view, paths) : null;
        const earlier = this.seen.spansOf(traceId)?.get(spanId);
        if (!kept || !earlier || earlier.version < kept.version) this.seen.add(traceId, spanId, kept);
      }
    }
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
        pending = this.pendingForeign.get(traceId);
        if (!pending) this.pendingForeign.set(traceId, (pending = new Map()));
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

  flush(now: number): TracesData {
    const outputs: MergedOutput[] = [];
    for (const hold of this.held.takeDue(now)) {
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
    for (const [traceId, spans] of this.pendingForeign) if (spans.size > 0) this.seen.addAll(traceId, spans);
    this.pendingForeign.clear();
    for (const { merged } of this.held.written()) {
      merged.version++;
      if (merged.version > 1) this.counters.lateRewrites.inc(this.counters.labels);
      this.seen.add(merged.traceId, merged.spanId, merged);
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
