/**
 * The dedupe processor: a span whose identity (trace id, span id) was already let through is
 * dropped — retries, replays, and the same span from two capture paths are written once.
 */
import type { Processor } from '../../core/component.ts';
import type { Counter } from '../../core/metrics.ts';
import type { Span, TracesData } from '../../core/otlp/model.ts';
import { filterSpans } from '../../core/otlp/traces.ts';
import { isSpanId, isTraceId } from '../../core/ids.ts';
import type { SeenSpans } from './seen-spans.ts';

export class DedupeProcessor implements Processor {
  /**
   * Span ids by trace let through in the batch in flight. They become `seen` only on commit,
   * once the next stage acknowledged them: a batch that failed is delivered again and must
   * pass again.
   */
  private pending = new Map<string, Set<string>>();

  constructor(
    private readonly seen: SeenSpans,
    private readonly recentOutput: () => AsyncIterable<TracesData>,
    private readonly dropped: Counter,
    private readonly labels: Record<string, string>,
  ) {}

  /** Remembers what was published before a restart, so it is not let through twice. */
  async start(): Promise<void> {
    for await (const data of this.recentOutput()) {
      for (const [traceId, spanIds] of spanIdsByTrace(spansIn(data))) this.seen.addAll(traceId, spanIds);
    }
  }

  processTraces(data: TracesData): TracesData {
    const spans = spansIn(data);
    checkIdentities(spans);
    // A message holds the spans of one trace: each trace's sets are looked up once.
    let traceId: string | undefined;
    let seen: ReadonlySet<string> | undefined;
    let pending: Set<string> | undefined;
    const keep = spans.map((span) => {
      if (span.traceId !== traceId) {
        traceId = span.traceId;
        seen = this.seen.spansOf(traceId);
        pending = this.pending.get(traceId);
        if (!pending) this.pending.set(traceId, (pending = new Set()));
      }
      if (pending!.has(span.spanId) || seen?.has(span.spanId)) return false;
      pending!.add(span.spanId);
      return true;
    });
    const dropped = keep.filter((k) => !k).length;
    if (dropped === 0) return data;
    this.dropped.inc(this.labels, dropped);
    // filterSpans visits the spans in the order spansIn listed them.
    let i = 0;
    return filterSpans(data, () => keep[i++]!);
  }

  commit(): void {
    for (const [traceId, spanIds] of this.pending) if (spanIds.size > 0) this.seen.addAll(traceId, spanIds);
    this.pending.clear();
  }

  abort(): void {
    this.pending.clear();
  }
}

function spansIn(data: TracesData): Span[] {
  const spans: Span[] = [];
  for (const rs of data.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.push(span);
  return spans;
}

function spanIdsByTrace(spans: Span[]): Map<string, string[]> {
  const byTrace = new Map<string, string[]>();
  for (const { traceId, spanId } of spans) {
    const ids = byTrace.get(traceId);
    if (ids) ids.push(spanId);
    else byTrace.set(traceId, [spanId]);
  }
  return byTrace;
}

/** Throws on the first span without a valid identity, before anything of the message is remembered. */
function checkIdentities(spans: Span[]): void {
  let validTraceId: string | undefined;
  for (const span of spans) {
    if ((span.traceId !== validTraceId && !isTraceId(span.traceId)) || !isSpanId(span.spanId)) {
      throw new Error(
        `span ${JSON.stringify(span.name)} has an invalid identity (traceId ${JSON.stringify(span.traceId)}, spanId ${JSON.stringify(span.spanId)}): expected 32 and 16 lowercase hex digits, not all zero`,
      );
    }
    validTraceId = span.traceId;
  }
}
