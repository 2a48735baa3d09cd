/**
 * Several processors run as one: each message goes through them in order. What a worker
 * running consecutive processors of a pipeline together hands to its stage.
 */
import type { Processor } from '../core/component.ts';
import type { TracesData } from '../core/otlp/model.ts';
import { countSpans } from '../core/otlp/traces.ts';

export function chainProcessors(chain: { id: string; processor: Processor }[]): Processor {
  if (chain.length === 1) return chain[0]!.processor;
  return {
    async start() {
      for (const { processor } of chain) await processor.start?.();
    },
    async processTraces(data: TracesData) {
      let current = data;
      for (const { id, processor } of chain) {
        try {
          current = await processor.processTraces(current);
        } catch (err) {
          // The dead letter must say which processor refused the message.
          throw new Error(`${id}: ${(err as Error).message}`, { cause: err });
        }
        if (countSpans(current) === 0) break;
      }
      return current;
    },
    commit() {
      for (const { processor } of chain) processor.commit?.();
    },
    abort() {
      for (const { processor } of chain) processor.abort?.();
    },
    async shutdown() {
      for (const { processor } of chain) await processor.shutdown?.();
    },
  };
}
