/** Feeds an exporter from its pipeline's last topic; the bus commits once the export resolves. */
import type { Bus, Subscription } from '../core/bus/bus.ts';
import type { Delivery, Exporter } from '../core/component.ts';
import type { MetricsRegistry } from '../core/metrics.ts';
import type { Signal, SignalData } from '../core/otlp/model.ts';
import { log } from '../core/log.ts';
import { inSpan } from './self-telemetry.ts';
import { deadLetterFor, type DeadLetterSink } from './deadletters.ts';
import type { SignalTopic } from '../core/bus/bus.ts';
import type { RunningStage } from './processor-stage.ts';

export interface ExporterStage<S extends Signal> {
  signal: S;
  topic: SignalTopic<S>;
  group: string;
  exporterId: string;
  exporter: Exporter;
  /** Bus batches handed to the exporter at once; it groups them into its inserts. */
  concurrency: number;
}

export async function runExporterStage<S extends Signal>(
  bus: Bus,
  { signal, topic, group, exporterId, exporter, concurrency }: ExporterStage<S>,
  deadLetters: DeadLetterSink,
  metrics: MetricsRegistry,
): Promise<RunningStage> {
  const labels = { exporter: exporterId, signal };
  const consumed = metrics.counter('agentotel_exporter_consumed_messages_total', 'Bus messages handed to an exporter');
  const latency = metrics.histogram('agentotel_exporter_batch_duration_seconds', 'Time until a batch is durable in the sink');
  const subscription: Subscription = await bus.subscribe(topic, { group, concurrency }, (batch) =>
    inSpan(`export ${exporterId}`, { 'messaging.batch.message_count': batch.length }, async () => {
      const started = performance.now();
      const deliveries: Delivery<SignalData[S]>[] = [];
      for (const m of batch) {
        if (m.ok) deliveries.push({ value: m.value, topic: m.topic, partition: m.partition, offset: m.offset });
        else {
          log('warn', `undecodable message on ${m.topic}; sent to dead letters`, { error: m.error.message, offset: m.offset });
          await deadLetters.send([deadLetterFor(m, exporterId, m.error, m.raw)]);
        }
      }
      if (deliveries.length > 0) await exporter.export(signal, deliveries);
      consumed.inc(labels, batch.length);
      latency.observe(labels, (performance.now() - started) / 1_000);
    }),
  );
  metrics.gauge('agentotel_exporter_lag_messages', 'Messages waiting for an exporter').track(labels, () => subscription.lag());
  return { lag: () => subscription.lag(), stop: () => subscription.stop() };
}
