/**
 * Runs one processor on the bus: consume a batch from its input topic, process each
 * message, publish the results to its output topic and the failures to the dead letters,
 * and only then let the bus commit the batch. A crash before that redelivers the batch.
 */
import type { Bus, IncomingMessage, OutgoingMessage, Subscription } from '../core/bus/bus.ts';
import { DataTooLargeError, type Processor } from '../core/component.ts';
import type { MetricsRegistry } from '../core/metrics.ts';
import type { TracesData } from '../core/otlp/model.ts';
import { countSpans } from '../core/otlp/traces.ts';
import { log } from '../core/log.ts';
import { inSpan } from './self-telemetry.ts';
import { publishTraces } from './publish-traces.ts';
import { deadLetterFor, type DeadLetter, type DeadLetterSink } from './deadletters.ts';
import { stageProcessors, type ProcessorStage } from './topology.ts';

export interface RunningStage {
  stop(): Promise<void>;
  lag(): number;
}

/**
 * Publishes a batch's results; those that can never be published (a span over the bus's
 * message limit) come back as dead letters. Nothing is sent when the batch holds such a
 * message, so the messages are then tried one by one.
 */
async function publishOrDeadLetter(
  bus: Bus,
  stage: ProcessorStage,
  name: string,
  out: OutgoingMessage<TracesData>[],
  sources: IncomingMessage<TracesData>[],
): Promise<DeadLetter[]> {
  try {
    await publishTraces(bus, stage.output, out);
    return [];
  } catch (err) {
    if (!(err instanceof DataTooLargeError)) throw err;
  }
  const dead: DeadLetter[] = [];
  for (const [i, o] of out.entries()) {
    try {
      await publishTraces(bus, stage.output, [o]);
    } catch (err) {
      if (!(err instanceof DataTooLargeError)) throw err;
      dead.push(deadLetterFor(sources[i]!, name, err, stage.input.codec.encode(o.value)));
    }
  }
  return dead;
}

export async function runProcessorStage(
  bus: Bus,
  stage: ProcessorStage,
  processor: Processor,
  deadLetters: DeadLetterSink,
  metrics: MetricsRegistry,
): Promise<RunningStage> {
  const name = stageProcessors(stage)
    .map((p) => p.id)
    .join('+');
  const labels = { stage: name };
  const consumed = metrics.counter('agentotel_worker_consumed_messages_total', 'Bus messages consumed');
  const consumedSpans = metrics.counter('agentotel_worker_consumed_spans_total', 'Spans consumed');
  const produced = metrics.counter('agentotel_worker_produced_spans_total', 'Spans published to the next stage');
  const failed = metrics.counter('agentotel_worker_dead_letters_total', 'Messages sent to the dead-letter topic');
  const latency = metrics.histogram('agentotel_worker_batch_duration_seconds', 'Time to process and publish one batch');

  await processor.start?.();
  const subscription: Subscription = await bus.subscribe(stage.input, { group: stage.group }, (batch) =>
    inSpan(`process ${name}`, { 'messaging.batch.message_count': batch.length }, async () => {
      const started = performance.now();
      const out: OutgoingMessage<TracesData>[] = [];
      const sources: IncomingMessage<TracesData>[] = [];
      const dead: DeadLetter[] = [];
      let spansIn = 0;
      let spansOut = 0;
      try {
        for (const m of batch) {
          if (!m.ok) {
            dead.push(deadLetterFor(m, name, m.error, m.raw));
            continue;
          }
          spansIn += countSpans(m.value);
          try {
            const result = await processor.processTraces(m.value);
            const n = countSpans(result);
            if (n > 0) {
              out.push({ key: m.key, value: result, headers: m.headers });
              sources.push(m);
            }
            spansOut += n;
          } catch (err) {
            log('warn', `processor ${name} rejected a message; sent to dead letters`, { error: (err as Error).message, offset: m.offset });
            dead.push(deadLetterFor(m, name, err as Error, stage.input.codec.encode(m.value)));
          }
        }
        dead.push(...(await publishOrDeadLetter(bus, stage, name, out, sources)));
        await deadLetters.send(dead);
      } catch (err) {
        processor.abort?.();
        throw err;
      }
      processor.commit?.();
      consumed.inc(labels, batch.length);
      consumedSpans.inc(labels, spansIn);
      produced.inc(labels, spansOut);
      failed.inc(labels, dead.length);
      latency.observe(labels, (performance.now() - started) / 1_000);
    }),
  );
  metrics.gauge('agentotel_worker_lag_messages', 'Messages waiting in the input topic').track(labels, () => subscription.lag());

  return {
    lag: () => subscription.lag(),
    stop: async () => {
      await subscription.stop();
      await processor.shutdown?.();
    },
  };
}
