/**
 * Runs one processor on the bus: consume a batch from its input topic, process each
 * message, publish the results to its output topic and the failures to the dead letters,
 * and only then let the bus commit the batch. A crash before that redelivers the batch.
 *
 * A processor that holds spans across messages (dedupe's merge window) hands them out from
 * `flush`, after each batch and on a timer in between, taking turns with the batches. The bus
 * commits no input offset whose spans are still held (`heldFrom`), so a crash delivers them
 * again; stopping flushes everything held first.
 *
 * When a rebalance takes partitions away, nothing held is written any more (the worker that
 * gets them is delivered their messages again from the last commit and decides alone) until
 * the processor dropped what it holds of them (`revoke`) and prepared for its new partitions
 * (`assign`: a stateful processor rebuilds what another worker may have written meanwhile).
 *
 * A logs pipeline's stage works the same way, one message at a time through processLogs;
 * nothing is held on logs (stage-signals.ts).
 */
import { BusUnavailableError, type Bus, type IncomingMessage, type OutgoingMessage, type Subscription } from '../core/bus/bus.ts';
import { DEAD_LETTER_HEADERS } from '../core/bus/topics.ts';
import type { Processor, ProcessorSignal } from '../core/component.ts';
import type { MetricsRegistry } from '../core/metrics.ts';
import type { SignalData } from '../core/otlp/model.ts';
import { log } from '../core/log.ts';
import { inSpan } from './self-telemetry.ts';
import { deadLetterFor, type DeadLetter, type DeadLetterSink } from './deadletters.ts';
import { LOGS, logsView, TRACES, type StageSignal } from './stage-signals.ts';
import { stageProcessors, type AnyProcessorStage, type ProcessorStage } from './topology.ts';

export interface RunningStage {
  stop(): Promise<void>;
  lag(): number;
}

export interface StageOptions {
  /** How often held spans are checked for a window that ended (default 500 ms). */
  flushIntervalMs?: number;
}

/** A message to publish, and the dead letter it becomes if the bus can never take it. */
interface Result<S extends ProcessorSignal> {
  message: OutgoingMessage<SignalData[S]>;
  deadLetter(err: Error): DeadLetter;
}

/**
 * Publishes results; those that can never be published (a span over the bus's message limit, a
 * result its processor made that does not encode) come back as dead letters: only the bus being
 * unavailable is worth trying again. Nothing is sent when the batch holds such a message (the
 * bus checks every message first), so the messages are then tried one by one.
 */
const YIELD_EVERY_MS = 5;

async function publishOrDeadLetter<S extends ProcessorSignal>(
  bus: Bus,
  signal: StageSignal<S>,
  stage: ProcessorStage<S>,
  results: Result<S>[],
): Promise<DeadLetter[]> {
  try {
    await signal.publish(
      bus,
      stage.output,
      results.map((r) => r.message),
    );
    return [];
  } catch (err) {
    if (err instanceof BusUnavailableError) throw err;
  }
  const dead: DeadLetter[] = [];
  for (const r of results) {
    try {
      await signal.publish(bus, stage.output, [r.message]);
    } catch (err) {
      if (err instanceof BusUnavailableError) throw err;
      log('warn', `a result for ${stage.output.name} cannot be published; sent to dead letters`, { error: (err as Error).message });
      dead.push(r.deadLetter(err as Error));
    }
  }
  return dead;
}

/** A dead letter's bytes: the value encoded, or when it does not encode (a processor's bug), the fallback's. */
function letterBytes(encode: () => Uint8Array, fallback: () => Uint8Array): Uint8Array {
  try {
    return encode();
  } catch {
    return fallback();
  }
}

/** A dead letter for spans a processor held: merged from several input messages, so no single source offset. */
function heldDeadLetter(stage: { input: { name: string } }, name: string, key: string, error: Error, raw: Uint8Array): DeadLetter {
  return {
    key,
    raw,
    headers: {
      [DEAD_LETTER_HEADERS.error]: error.message.slice(0, 1_000),
      [DEAD_LETTER_HEADERS.stage]: name,
      [DEAD_LETTER_HEADERS.sourceTopic]: stage.input.name,
    },
  };
}

export async function runProcessorStage(
  bus: Bus,
  stage: AnyProcessorStage,
  processor: Processor,
  deadLetters: DeadLetterSink,
  metrics: MetricsRegistry,
  options: StageOptions = {},
): Promise<RunningStage> {
  const name = stageProcessors(stage)
    .map((p) => p.id)
    .join('+');
  const run = { bus, name, deadLetters, metrics, options };
  if (stage.pipeline.signal === 'logs') return runStage(run, LOGS, stage as ProcessorStage<'logs'>, logsView(processor, name));
  return runStage(run, TRACES, stage as ProcessorStage<'traces'>, processor);
}

async function runStage<S extends ProcessorSignal>(
  {
    bus,
    name,
    deadLetters,
    metrics,
    options,
  }: { bus: Bus; name: string; deadLetters: DeadLetterSink; metrics: MetricsRegistry; options: StageOptions },
  signal: StageSignal<S>,
  stage: ProcessorStage<S>,
  processor: Processor,
): Promise<RunningStage> {
  // The traces stage of a processor keeps the labels it always had; its stages of other pipelines say which signal.
  const labels: Record<string, string> = signal === TRACES ? { stage: name } : { stage: name, signal: stage.pipeline.signal };
  const consumed = metrics.counter('agentotel_worker_consumed_messages_total', 'Bus messages consumed');
  const consumedItems = metrics.counter(`agentotel_worker_consumed_${signal.unit}_total`, `${signal.noun} consumed`);
  const produced = metrics.counter(`agentotel_worker_produced_${signal.unit}_total`, `${signal.noun} published to the next stage`);
  const failed = metrics.counter('agentotel_worker_dead_letters_total', 'Messages sent to the dead-letter topic');
  const latency = metrics.histogram('agentotel_worker_batch_duration_seconds', 'Time to process and publish one batch');
  const itemsOf = (results: Result<S>[]) => results.reduce((n, r) => n + signal.count(r.message.value), 0);

  let closing = false;
  /** Between a revocation and the next assignment: the partitions of what is held may be another worker's now. */
  let suspended = false;
  let turn: Promise<unknown> = Promise.resolve();
  /** Batches and timer flushes take turns: the processor's calls never interleave. */
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const run = turn.then(work);
    turn = run.catch(() => undefined);
    return run;
  };

  /** Held spans whose time came, one message per trace (key = trace id, as the receivers key them). */
  const flushed = async (now: number): Promise<Result<S>[]> => {
    if (!processor.flush || !signal.flushed || suspended) return [];
    return [...signal.flushed(await processor.flush(now))].map(([traceId, value]) => ({
      message: { key: traceId, value },
      deadLetter: (err) =>
        heldDeadLetter(
          stage,
          name,
          traceId,
          err,
          letterBytes(
            () => stage.output.codec.encode(value),
            () => new Uint8Array(),
          ),
        ),
    }));
  };

  /** Publishes the results and dead letters, then commits the processor's changes, or aborts them and rethrows. */
  const publishAndCommit = async (collect: () => Promise<{ results: Result<S>[]; dead: DeadLetter[] }>): Promise<DeadLetter[]> => {
    let dead: DeadLetter[];
    try {
      const collected = await collect();
      dead = [...collected.dead, ...(await publishOrDeadLetter(bus, signal, stage, collected.results))];
      await deadLetters.send(dead);
      produced.inc(labels, itemsOf(collected.results));
    } catch (err) {
      processor.abort?.();
      throw err;
    }
    processor.commit?.();
    failed.inc(labels, dead.length);
    return dead;
  };

  const handleBatch = async (batch: IncomingMessage<SignalData[S]>[]) => {
    const started = performance.now();
    let itemsIn = 0;
    await publishAndCommit(async () => {
      const results: Result<S>[] = [];
      const dead: DeadLetter[] = [];
      let yielded = performance.now();
      for (const m of batch) {
        // A batch is processed synchronously; in one process with the receivers (embedded mode)
        // that would hold their acknowledgements for the whole batch: let I/O in every few ms.
        if (performance.now() - yielded > YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          yielded = performance.now();
        }
        if (!m.ok) {
          dead.push(deadLetterFor(m, name, m.error, m.raw));
          continue;
        }
        itemsIn += signal.count(m.value);
        try {
          const result = await signal.process(processor, m.value, { partition: m.partition, offset: m.offset });
          if (signal.count(result) > 0) {
            results.push({
              message: { key: m.key, value: result, headers: m.headers },
              deadLetter: (err) =>
                deadLetterFor(
                  m,
                  name,
                  err,
                  letterBytes(
                    () => stage.input.codec.encode(result),
                    () => stage.input.codec.encode(m.value),
                  ),
                ),
            });
          }
        } catch (err) {
          log('warn', `processor ${name} rejected a message; sent to dead letters`, { error: (err as Error).message, offset: m.offset });
          dead.push(deadLetterFor(m, name, err as Error, stage.input.codec.encode(m.value)));
        }
      }
      results.push(...(await flushed(closing ? Infinity : Date.now())));
      return { results, dead };
    });
    consumed.inc(labels, batch.length);
    consumedItems.inc(labels, itemsIn);
    latency.observe(labels, (performance.now() - started) / 1_000);
  };

  const flushHeld = (now: number) => inTurn(() => publishAndCommit(async () => ({ results: await flushed(now), dead: [] })));

  const revoke = (partitions: number[]) => {
    suspended = true;
    inTurn(async () => processor.revoke?.(partitions)).catch((err) =>
      log('error', `processor ${name} could not drop the state of revoked partitions`, { error: (err as Error).message, partitions }),
    );
  };
  const assign = (partitions: number[]) =>
    inTurn(async () => {
      await processor.assign?.(partitions);
      suspended = false;
    });

  if (processor.assign) await checkPartitionsAlike(bus, stage);
  await processor.start?.();
  const subscription: Subscription = await bus.subscribe(
    stage.input,
    {
      group: stage.group,
      ...(processor.heldFrom && { heldFrom: (partition: number) => processor.heldFrom!(partition) }),
      onRevoked: revoke,
      onAssigned: assign,
    },
    (batch) => inTurn(() => inSpan(`process ${name}`, { 'messaging.batch.message_count': batch.length }, () => handleBatch(batch))),
  );
  metrics.gauge('agentotel_worker_lag_messages', 'Messages waiting in the input topic').track(labels, () => subscription.lag());

  let flushing = false;
  const timer = processor.flush
    ? setInterval(() => {
        if (flushing) return;
        flushing = true;
        flushHeld(Date.now())
          .catch((err) => log('warn', `processor ${name} could not publish held spans; retrying`, { error: (err as Error).message }))
          .finally(() => (flushing = false));
      }, options.flushIntervalMs ?? 500)
    : undefined;
  timer?.unref();

  return {
    lag: () => subscription.lag(),
    stop: async () => {
      closing = true;
      clearInterval(timer);
      if (processor.flush) {
        await flushHeld(Infinity).catch((err) =>
          log('error', `processor ${name} could not publish held spans at stop; their input is delivered again after a restart`, {
            error: (err as Error).message,
          }),
        );
      }
      await subscription.stop();
      await processor.shutdown?.();
    },
  };
}

/**
 * A processor that rebuilds its state by partition (`assign`) reads the output partition of the
 * same number as the input partition it gets: the topics must be partitioned alike (agentotel
 * creates them so; topics created by hand may not be).
 */
async function checkPartitionsAlike(bus: Bus, stage: { input: { name: string }; output: { name: string } }): Promise<void> {
  if (!bus.partitionCount) return;
  const [input, output] = await Promise.all([bus.partitionCount(stage.input.name), bus.partitionCount(stage.output.name)]);
  if (input !== output) {
    throw new Error(
      `${stage.input.name} has ${input} partitions and ${stage.output.name} ${output}: a stage's input and output topics need the same number (a trace's output partition is its input partition)`,
    );
  }
}
