/**
 * Several processors run as one: each message goes through them in order. What a worker
 * running consecutive processors of a pipeline together hands to its stage.
 */
import { earlierOffset } from '../core/bus/bus.ts';
import type { MessagePosition, Processor, ProcessorSignal } from '../core/component.ts';
import type { SignalData, TracesData } from '../core/otlp/model.ts';
import { LOGS, TRACES, type StageSignal } from './stage-signals.ts';

type Chain = { id: string; processor: Processor }[];

/** Runs `data` through the chain from processor `from` on. */
async function runFrom<S extends ProcessorSignal>(
  signal: StageSignal<S>,
  chain: Chain,
  from: number,
  data: SignalData[S],
  source?: MessagePosition,
): Promise<SignalData[S]> {
  let current = data;
  for (const { id, processor } of chain.slice(from)) {
    if (signal.count(current) === 0) break;
    try {
      current = await signal.process(processor, current, source);
    } catch (err) {
      // The dead letter must say which processor refused the message.
      throw new Error(`${id}: ${(err as Error).message}`, { cause: err });
    }
  }
  return current;
}

export function chainProcessors(chain: Chain): Processor {
  if (chain.length === 1) return chain[0]!.processor;
  const holding = chain.some(({ processor }) => processor.flush);
  const partitioned = chain.some(({ processor }) => processor.assign || processor.revoke);
  return {
    async start() {
      for (const { processor } of chain) await processor.start?.();
    },
    processTraces: (data, source) => runFrom(TRACES, chain, 0, data, source),
    ...(chain.every(({ processor }) => processor.processLogs) && { processLogs: (data) => runFrom(LOGS, chain, 0, data) }),
    ...(holding && {
      // What a processor flushes goes on through the processors after it (with no source
      // position: it is the flushing processor that keeps the input uncommitted until then).
      async flush(now: number): Promise<TracesData> {
        const out: TracesData = { resourceSpans: [] };
        for (const [i, { processor }] of chain.entries()) {
          if (!processor.flush) continue;
          const passed = await runFrom(TRACES, chain, i + 1, await processor.flush(now));
          out.resourceSpans!.push(...(passed.resourceSpans ?? []));
        }
        return out;
      },
      heldFrom(partition: number): string | undefined {
        return chain.reduce<string | undefined>((first, { processor }) => earlierOffset(first, processor.heldFrom?.(partition)), undefined);
      },
    }),
    ...(partitioned && {
      revoke(partitions: number[]) {
        for (const { processor } of chain) processor.revoke?.(partitions);
      },
      async assign(partitions: number[]) {
        for (const { processor } of chain) await processor.assign?.(partitions);
      },
    }),
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
