/**
 * Starts the receivers of all pipelines and connects each to the bus: what a receiver
 * accepts is published to the received topic of every pipeline it belongs to, traces split
 * one message per trace (key = trace id), and the receiver answers its client only after
 * the bus acknowledged.
 */
import { createHash } from 'node:crypto';
import { BusUnavailableError, type Bus, type OutgoingMessage, type SignalTopic } from '../core/bus/bus.ts';
import type { NextConsumers, Receiver } from '../core/component.ts';
import type { MetricsRegistry } from '../core/metrics.ts';
import type { LogsData, MetricsData, Resource, Signal, SignalData, TracesData } from '../core/otlp/model.ts';
import { splitByTrace } from '../core/otlp/traces.ts';
import { attributesToMap } from '../core/otlp/attributes.ts';
import type { ServiceConfig } from './config.ts';
import { receivedTopic } from './topology.ts';
import { componentContext } from './context.ts';
import { publishTraces } from './publish-traces.ts';

function resourceKey(resource: Resource | undefined): string {
  const attrs = attributesToMap(resource?.attributes);
  return createHash('sha1')
    .update(JSON.stringify(Object.entries(attrs).sort()))
    .digest('hex')
    .slice(0, 16);
}

function messagesFor<S extends Signal>(signal: S, data: SignalData[S]): OutgoingMessage<SignalData[S]>[] {
  if (signal === 'traces') {
    return [...splitByTrace(data as TracesData)].map(([key, value]) => ({ key, value: value as SignalData[S] }));
  }
  // Logs and metrics: one message per resource, keyed by it (the Collector's partition_*_by_resource_attributes).
  if (signal === 'logs') {
    return ((data as LogsData).resourceLogs ?? []).map((rl) => ({
      key: resourceKey(rl.resource),
      value: { resourceLogs: [rl] } as SignalData[S],
    }));
  }
  return ((data as MetricsData).resourceMetrics ?? []).map((rm) => ({
    key: resourceKey(rm.resource),
    value: { resourceMetrics: [rm] } as SignalData[S],
  }));
}

/**
 * How long a receiver's client waits for the bus before it gets a retryable error (HTTP 503,
 * gRPC UNAVAILABLE). OTLP exporters time out after 10 s by default; a Kafka outage must answer
 * before that. The publish may still complete later: the client's retry is then a duplicate,
 * which the dedupe processor drops.
 */
const PUBLISH_DEADLINE_MS = 5_000;

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BusUnavailableError(`the bus did not acknowledge within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export interface ReceiverHost {
  receivers: Map<string, Receiver>;
  shutdown(): Promise<void>;
}

export async function startReceivers(config: ServiceConfig, bus: Bus, metrics: MetricsRegistry): Promise<ReceiverHost> {
  const topicsByReceiver = new Map<string, { [S in Signal]?: SignalTopic<S>[] }>();
  const receiverConfigs = new Map<string, ServiceConfig['pipelines'][number]['receivers'][number]>();
  for (const p of config.pipelines) {
    for (const r of p.receivers) {
      receiverConfigs.set(r.id, r);
      const topics = topicsByReceiver.get(r.id) ?? {};
      const list = (topics[p.signal] ??= []) as SignalTopic<Signal>[];
      list.push(receivedTopic(config.bus.topicPrefix, p) as SignalTopic<Signal>);
      topicsByReceiver.set(r.id, topics);
    }
  }

  const receivers = new Map<string, Receiver>();
  for (const [id, r] of receiverConfigs) {
    const topics = topicsByReceiver.get(id)!;
    const next: NextConsumers = {};
    for (const signal of Object.keys(topics) as Signal[]) {
      const targets = topics[signal] as SignalTopic<Signal>[];
      (next as Record<Signal, (d: SignalData[Signal]) => Promise<void>>)[signal] = async (data) => {
        const messages = messagesFor(signal, data);
        if (messages.length === 0) return;
        const publish = (t: SignalTopic<Signal>) =>
          signal === 'traces'
            ? publishTraces(bus, t as SignalTopic<'traces'>, messages as OutgoingMessage<TracesData>[])
            : bus.publish(t, messages);
        await withDeadline(Promise.all(targets.map(publish)), PUBLISH_DEADLINE_MS);
      };
    }
    const receiver = r.factory.create(r.config, { ...componentContext(config, id, metrics), next });
    await receiver.start();
    receivers.set(id, receiver);
  }
  return {
    receivers,
    shutdown: async () => {
      await Promise.all([...receivers.values()].map((r) => r.shutdown()));
    },
  };
}
