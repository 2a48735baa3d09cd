/**
 * The dedupe processor: a span whose identity (trace id, span id) was already let through is
 * dropped — retries, replays, and the same span from two capture paths are written once.
 */
import type { Processor } from '../../core/component.ts';
import type { Counter } from '../../core/metrics.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { countSpans, eachSpan, filterSpans } from '../../core/otlp/traces.ts';
import { isSpanId, isTraceId } from '../../core/ids.ts';
import type { SeenSpans } from './seen-spans.ts';

export class DedupeProcessor implements Processor {
  /**
   * Spans let through in the batch in flight. They become `seen` only on commit, once the
   * next stage acknowledged them: a batch that failed is delivered again and must pass again.
   */
  private pending = new Map<string, { traceId: string; spanId: string }>();

  constructor(
    private readonly seen: SeenSpans,
    private readonly recentOutput: () => AsyncIterable<TracesData>,
    private readonly dropped: Counter,
    private readonly labels: Record<string, string>,
  ) {}

  /** Remembers what was published before a restart, so it is not let through twice. */
  async start(): Promise<void> {
    for await (const data of this.recentOutput()) {
      for (const { span } of eachSpan(data)) this.seen.add(span.traceId, span.spanId);
    }
  }

  processTraces(data: TracesData): TracesData {
    for (const { span } of eachSpan(data)) {
      if (!isTraceId(span.traceId) || !isSpanId(span.spanId)) {
        throw new Error(
          `span ${JSON.stringify(span.name)} has an invalid identity (traceId ${JSON.stringify(span.traceId)}, spanId ${JSON.stringify(span.spanId)}): expected 32 and 16 lowercase hex digits, not all zero`,
        );
      }
    }
    const output = filterSpans(data, (span) => {
      const key = `${span.traceId}/${span.spanId}`;
      if (this.pending.has(key) || this.seen.has(span.traceId, span.spanId)) return false;
      this.pending.set(key, { traceId: span.traceId, spanId: span.spanId });
      return true;
    });
    this.dropped.inc(this.labels, countSpans(data) - countSpans(output));
    return output;
  }

  commit(): void {
    for (const { traceId, spanId } of this.pending.values()) this.seen.add(traceId, spanId);
    this.pending.clear();
  }

  abort(): void {
    this.pending.clear();
  }
}
