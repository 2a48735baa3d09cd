/**
 * Where each stage of a pipeline reads and writes. A traces pipeline
 * `receivers → redaction → enrichment → dedupe → exporters` becomes the topics
 *   <prefix>traces.received → <prefix>traces.redaction → <prefix>traces.enrichment → <prefix>traces.dedupe
 * and one consumer group per stage, so each processor can run as its own worker. A logs
 * pipeline with processors is laid out the same way (<prefix>logs.received → <prefix>logs.redaction).
 */
import { signalTopic } from '../core/bus/topics.ts';
import type { SignalTopic } from '../core/bus/bus.ts';
import type { ProcessorSignal } from '../core/component.ts';
import type { Signal } from '../core/otlp/model.ts';
import type { PipelineConfig, ServiceConfig } from './config.ts';

const safe = (id: string) => id.replace(/\//g, '-');

export interface ProcessorStage<S extends ProcessorSignal = 'traces'> {
  pipeline: PipelineConfig;
  /** The stage runs processors[index] .. processors[index + count - 1] of its pipeline, in order. */
  index: number;
  count: number;
  input: SignalTopic<S>;
  output: SignalTopic<S>;
  group: string;
}

/** A stage of a traces or a logs pipeline (config only allows processors on those). */
export type AnyProcessorStage = ProcessorStage<'traces'> | ProcessorStage<'logs'>;

export function receivedTopic<S extends Signal>(prefix: string, pipeline: PipelineConfig & { signal: S }): SignalTopic<S> {
  return signalTopic(`${prefix}${safe(pipeline.id)}.received`, pipeline.signal);
}

function processorTopic<S extends Signal>(prefix: string, pipeline: PipelineConfig & { signal: S }, index: number): SignalTopic<S> {
  return signalTopic(`${prefix}${safe(pipeline.id)}.${safe(pipeline.processors[index]!.id)}`, pipeline.signal);
}

/**
 * The stage of one processor, or of `count` consecutive ones run together in one worker (one
 * consumer group reading the first one's input and writing the last one's output: fewer Kafka
 * hops for the same work).
 */
export function processorStage(prefix: string, pipeline: PipelineConfig, index: number, count = 1): AnyProcessorStage {
  const signal: ProcessorSignal = pipeline.signal === 'logs' ? 'logs' : 'traces';
  const typed = { ...pipeline, signal };
  const input = index === 0 ? receivedTopic(prefix, typed) : processorTopic(prefix, typed, index - 1);
  const ids = pipeline.processors.slice(index, index + count).map((p) => safe(p.id));
  return {
    pipeline,
    index,
    count,
    input,
    output: processorTopic(prefix, typed, index + count - 1),
    group: `${prefix}${safe(pipeline.id)}.${ids.join('+')}`,
  } as AnyProcessorStage;
}

/** The processors a stage runs, in order. */
export function stageProcessors(stage: Pick<AnyProcessorStage, 'pipeline' | 'index' | 'count'>): PipelineConfig['processors'] {
  return stage.pipeline.processors.slice(stage.index, stage.index + stage.count);
}

/** The topic the exporters of a pipeline read: the last processor's output, or the received topic. */
export function exportTopic<S extends Signal>(prefix: string, pipeline: PipelineConfig & { signal: S }): SignalTopic<S> {
  const n = pipeline.processors.length;
  return (n === 0 ? receivedTopic(prefix, pipeline) : processorTopic(prefix, pipeline, n - 1)) as SignalTopic<S>;
}

export function exporterGroup(prefix: string, pipeline: PipelineConfig, exporterId: string): string {
  return `${prefix}${safe(pipeline.id)}.exporter.${safe(exporterId)}`;
}

/** Every topic the configured pipelines use (created at start if missing). */
export function allTopics(config: ServiceConfig): string[] {
  const names = new Set<string>();
  for (const p of config.pipelines) {
    names.add(receivedTopic(config.bus.topicPrefix, p).name);
    p.processors.forEach((_, i) => names.add(processorStage(config.bus.topicPrefix, p, i).output.name));
  }
  names.add(`${config.bus.topicPrefix}deadletter`);
  return [...names];
}

/**
 * The stages a worker of a processor id, or of consecutive ids ("redaction, enrichment,
 * dedupe" as one worker), runs: one in each pipeline that has the processor (`pipelineId`
 * picks one). A pipeline that ends before the run does (logs: redaction only) gets the part
 * it has; a pipeline where other processors come between them is an error.
 */
export function findProcessorStages(config: ServiceConfig, processorIds: string[], pipelineId?: string): AnyProcessorStage[] {
  const stages: AnyProcessorStage[] = [];
  let whole = false;
  for (const p of config.pipelines) {
    if (pipelineId && p.id !== pipelineId) continue;
    const index = p.processors.findIndex((proc) => proc.id === processorIds[0]);
    if (index < 0) continue;
    const run = p.processors.slice(index, index + processorIds.length).map((proc) => proc.id);
    const endsEarly = index + run.length === p.processors.length;
    if (run.some((id, i) => id !== processorIds[i]) || (run.length < processorIds.length && !endsEarly)) {
      throw new Error(
        `processors ${processorIds.join(', ')} are not consecutive in pipeline "${p.id}" (${p.processors.map((x) => x.id).join(' → ')})`,
      );
    }
    whole ||= run.length === processorIds.length;
    stages.push(processorStage(config.bus.topicPrefix, p, index, run.length));
  }
  if (stages.length === 0) throw new Error(`no pipeline${pipelineId ? ` "${pipelineId}"` : ''} has a processor "${processorIds[0]}"`);
  if (!whole) throw new Error(`no pipeline has the processors ${processorIds.join(', ')} one after another`);
  return stages;
}
