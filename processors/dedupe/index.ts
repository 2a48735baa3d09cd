/** The dedupe processor: drops spans whose identity (trace id, span id) was already let through. */
import type { ProcessorFactory } from '../../core/component.ts';
import { parseDedupeConfig, type DedupeConfig } from './config.ts';
import { DedupeProcessor } from './processor.ts';
import { SeenSpans } from './seen-spans.ts';

export type { DedupeConfig } from './config.ts';
export { DedupeProcessor } from './processor.ts';
export { SeenSpans } from './seen-spans.ts';

export const dedupeProcessorFactory: ProcessorFactory<DedupeConfig> = {
  kind: 'processor',
  type: 'dedupe',
  parseConfig: parseDedupeConfig,
  create: (config, context) => {
    const seen = new SeenSpans(config.windowMs, config.maxEntries);
    const labels = { processor: context.id };
    context.metrics.gauge('agentotel_dedupe_remembered_spans', 'Span identities the dedupe processor remembers').track(labels, () => seen.size);
    const dropped = context.metrics.counter('agentotel_dedupe_dropped_spans_total', 'Spans dropped as duplicates');
    return new DedupeProcessor(seen, () => context.recentOutput(), dropped, labels);
  },
};
