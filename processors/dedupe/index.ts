/**
 * The dedupe processor: the views of one agent span from several capture paths merge into one
 * written span; foreign spans whose identity (trace id, span id) was already let through are dropped.
 */
import type { ProcessorFactory } from '../../core/component.ts';
import { parseDedupeConfig, type DedupeConfig } from './config.ts';
import { HeldSpans } from './held-spans.ts';
import { DedupeProcessor, type SeenSpan } from './processor.ts';
import { SeenSpans } from './seen-spans.ts';

export type { DedupeConfig } from './config.ts';
export { DedupeProcessor } from './processor.ts';
export { SeenSpans } from './seen-spans.ts';

export const dedupeProcessorFactory: ProcessorFactory<DedupeConfig> = {
  kind: 'processor',
  type: 'dedupe',
  parseConfig: parseDedupeConfig,
  create: (config, context) => {
    const seen = new SeenSpans<SeenSpan>(config.windowMs, config.maxEntries);
    const held = new HeldSpans();
    const labels = { processor: context.id };
    const { metrics } = context;
    metrics
      .gauge('agentotel_dedupe_remembered_spans', 'Spans the dedupe processor remembers as let through')
      .track(labels, () => seen.size);
    metrics.gauge('agentotel_dedupe_held_spans', 'Agent spans held in their merge window, not written yet').track(labels, () => held.size);
    return new DedupeProcessor(seen, held, config.mergeWindowMs, (options) => context.recentOutput(options), {
      dropped: metrics.counter(
        'agentotel_dedupe_dropped_spans_total',
        'Spans dropped as duplicates: foreign spans seen before, views that added nothing',
      ),
      merged: metrics.counter('agentotel_dedupe_merged_views_total', 'Views merged into another view of the same span'),
      lateRewrites: metrics.counter('agentotel_dedupe_late_rewrites_total', 'Spans written again with a higher agentotel.span.version'),
      labels,
    });
  },
};
