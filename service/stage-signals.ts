/**
 * What a processor stage and a processor chain do differently for traces and for logs: how a
 * message is processed, counted and published. Only traces are held, flushed and rebuilt by
 * partition; a logs stage gives its processor nothing but processLogs.
 */
import type { Bus, OutgoingMessage, SignalTopic } from '../core/bus/bus.ts';
import type { MessagePosition, Processor, ProcessorSignal } from '../core/component.ts';
import type { LogsData, SignalData, TracesData } from '../core/otlp/model.ts';
import { countSpans, splitByTrace } from '../core/otlp/traces.ts';
import { publishTraces } from './publish-traces.ts';

export interface StageSignal<S extends ProcessorSignal> {
  /** What the stage's item metrics count: agentotel_worker_consumed_<unit>_total, and their help text. */
  unit: string;
  noun: string;
  count(data: SignalData[S]): number;
  process(processor: Processor, data: SignalData[S], source?: MessagePosition): SignalData[S] | Promise<SignalData[S]>;
  publish(bus: Bus, topic: SignalTopic<S>, messages: OutgoingMessage<SignalData[S]>[]): Promise<void>;
  /** What a processor flushed, one message per key; absent: nothing is ever held. */
  flushed?: (data: TracesData) => Map<string, SignalData[S]>;
}

export function countLogRecords(data: LogsData): number {
  let n = 0;
  for (const rl of data.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) n += sl.logRecords?.length ?? 0;
  return n;
}

export const TRACES: StageSignal<'traces'> = {
  unit: 'spans',
  noun: 'Spans',
  count: countSpans,
  process: (processor, data, source) => processor.processTraces(data, source),
  publish: publishTraces,
  flushed: splitByTrace,
};

export const LOGS: StageSignal<'logs'> = {
  unit: 'log_records',
  noun: 'Log records',
  count: countLogRecords,
  process: (processor, data) => processor.processLogs!(data),
  publish: (bus, topic, messages) => bus.publish(topic, messages),
};

/** The part of a processor a logs stage uses: what holds or rebuilds state by partition is for traces. */
export function logsView(processor: Processor, name: string): Processor {
  const processLogs = processor.processLogs?.bind(processor);
  if (!processLogs) throw new Error(`processor ${name} has no processLogs, though its factory lists logs`);
  return {
    processTraces: (data) => data, // never called on a logs stage
    processLogs,
    ...(processor.start && { start: () => processor.start!() }),
    ...(processor.commit && { commit: () => processor.commit!() }),
    ...(processor.abort && { abort: () => processor.abort!() }),
    ...(processor.shutdown && { shutdown: () => processor.shutdown!() }),
  };
}
