/**
 * Where each stage of a pipeline reads and writes. A traces pipeline
 * `receivers → redaction → enrichment → dedupe → exporters` becomes the topics
 *   <prefix>traces.received → <prefix>traces.redaction → <prefix>traces.enrichment → <prefix>traces.dedupe
 * and one consumer group per stage, so each processor can run as its own worker.
 */
import { signalTopic } from '../core/bus/topics.ts';
import type { SignalTopic } from '../core/bus/bus.ts';
import type { Signal } from '../core/otlp/model.ts';
import type { PipelineConfig, ServiceConfig } from './config.ts';

const safe = (id: string) => id.replace(/\//g, '-');

export interface ProcessorStage {
  pipeline: PipelineConfig;
  index: number;
  input: SignalTopic<'traces'>;
  output: SignalTopic<'traces'>;
  group: string;
}

export function receivedTopic<S extends Signal>(prefix: string, pipeline: PipelineConfig & { signal: S }): SignalTopic<S> {
  return signalTopic(`${prefix}${safe(pipeline.id)}.received`, pipeline.signal);
}

function processorTopic(prefix: string, pipeline: PipelineConfig, index: number): SignalTopic<'traces'> {
  return signalTopic(`${prefix}${safe(pipeline.id)}.${safe(pipeline.processors[index]!.id)}`, 'traces');
}

export function processorStage(prefix: string, pipeline: PipelineConfig, index: number): ProcessorStage {
  const input = index === 0 ? receivedTopic(prefix, { ...pipeline, signal: 'traces' }) : processorTopic(prefix, pipeline, index - 1);
  return {
    pipeline,
    index,
    input,
    output: processorTopic(prefix, pipeline, index),
    group: `${prefix}${safe(pipeline.id)}.${safe(pipeline.processors[index]!.id)}`,
  };
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

/** Finds the pipeline stage of a processor id (the only one, or `pipeline` picks). */
export function findProcessorStage(config: ServiceConfig, processorId: string, pipelineId?: string): ProcessorStage {
  const matches: ProcessorStage[] = [];
  for (const p of config.pipelines) {
    if (pipelineId && p.id !== pipelineId) continue;
    p.processors.forEach((proc, i) => {
      if (proc.id === processorId) matches.push(processorStage(config.bus.topicPrefix, p, i));
    });
  }
  if (matches.length === 0) throw new Error(`no pipeline has a processor "${processorId}"`);
  if (matches.length > 1) throw new Error(`processor "${processorId}" is in several pipelines; pick one with --pipeline`);
  return matches[0]!;
}
