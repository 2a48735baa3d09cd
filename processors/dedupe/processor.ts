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
   * Output per input object. A bus redelivers the same batch object when publishing its
   * output failed; those spans were let through but never published, so the redelivery must
   * get the same output again rather than be dropped as duplicates of itself.
   */
  private readonly outputs = new WeakMap<TracesData, TracesData>();

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
    const previous = this.outputs.get(data);
    if (previous) return previous;
    for (const { span } of eachSpan(data)) {
      if (!isTraceId(span.traceId) || !isSpanId(span.spanId)) {
        throw new Error(
          `span ${JSON.stringify(span.name)} has an invalid identity (traceId ${JSON.stringify(span.traceId)}, spanId ${JSON.stringify(span.spanId)}): expected 32 and 16 lowercase hex digits, not all zero`,
        );
      }
    }
    const output = filterSpans(data, (span) => this.seen.add(span.traceId, span.spanId));
    this.dropped.inc(this.labels, countSpans(data) - countSpans(output));
    this.outputs.set(data, output);
    return output;
  }
}
