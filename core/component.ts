/**
 * The component API, as in the OTel Collector: each receiver, processor and exporter is a
 * factory that validates its config block and creates the component. Built-in components
 * and plugins (a local module or npm package exporting a factory) register the same way.
 *
 * Data moves one way: a receiver hands OTLP data to `next` (the bus), a processor turns one
 * TracesData (or LogsData, when its factory lists logs) into another, an exporter writes what
 * it is given and resolves once it is durable.
 */
import type { LogsData, Signal, SignalData, TracesData } from './otlp/model.ts';
import type { Fields } from './config/fields.ts';
import type { MetricsRegistry } from './metrics.ts';

export interface ComponentContext {
  /** The component's id in the config, e.g. "otlp" or "redaction/strict". */
  id: string;
  /** Directory for the component's durable state (spool, offsets). */
  dataDir: string;
  /** Directory of the config file; relative paths in config resolve against it. */
  configDir: string;
  metrics: MetricsRegistry;
}

interface Factory<C> {
  /** The type name that config ids start with ("otlp" for "otlp/secondary"). */
  type: string;
  /** Reads and validates the component's config block; throws ConfigError naming the key. */
  parseConfig(fields: Fields): C;
}

// ── receivers ────────────────────────────────────────────────────────────────

/** Where a receiver sends what it accepted; resolves once the bus has acknowledged it. */
export type NextConsumers = { [S in Signal]?: (data: SignalData[S]) => Promise<void> };

/**
 * Thrown by a next consumer for data that can never be passed on however often it is sent
 * (a single span larger than the bus takes). Receivers answer it with a non-retryable error.
 */
export class DataTooLargeError extends Error {
  override name = 'DataTooLargeError';
}

export interface Receiver {
  start(): Promise<void>;
  shutdown(): Promise<void>;
  /** Addresses it listens on, e.g. { grpc: "127.0.0.1:4317" } (after start). */
  endpoints?(): Record<string, string>;
}

export interface ReceiverFactory<C = unknown> extends Factory<C> {
  kind: 'receiver';
  signals: Signal[];
  create(config: C, context: ComponentContext & { next: NextConsumers }): Receiver;
}

// ── processors ───────────────────────────────────────────────────────────────

export interface ProcessorContext extends ComponentContext {
  /**
   * Replays what this processor published recently (its output topic, oldest first in each
   * partition), so a stateful processor can rebuild its state after a restart: the last
   * `bus.state_replay_window` (or `sinceMs`), of every partition or of `partitions` (the output
   * partition of a trace is its input partition). Empty in embedded mode.
   */
  recentOutput(options?: { partitions?: number[]; sinceMs?: number }): AsyncIterable<PublishedMessage>;
}

/** A message a processor published, and the partition of its output topic it is on. */
export interface PublishedMessage {
  partition: number;
  value: TracesData;
}

/** Where a bus message came from in its input topic. */
export interface MessagePosition {
  partition: number;
  offset: string;
}

/**
 * A processor turns each bus message into its output at once, or (a processor that merges
 * what arrives over time: dedupe) holds spans and hands them out later from `flush`. The
 * stage calls processTraces for each message of a batch, then flush, publishes all that,
 * then commit; calls are never concurrent, and a flush with nothing due still ends with
 * commit or abort.
 */
export interface Processor {
  /** Optional warm-up before the first message (e.g. rebuild state from recentOutput). */
  start?(): Promise<void>;
  /**
   * Turns one bus message (the spans of one trace) into what goes to the next stage; may
   * return no spans. Throwing sends the message to the dead-letter topic with the error.
   * `source` is the message's position; absent for spans that did not come from one message
   * (flushed by an earlier processor of the same worker): those cannot be held safely.
   */
  processTraces(data: TracesData, source?: MessagePosition): TracesData | Promise<TracesData>;
  /**
   * Turns one bus message of a logs pipeline (the records of one resource) into what goes to
   * the next stage; may return no records. Required when the factory's `signals` lists logs.
   * A logs stage calls only this, start, commit, abort and shutdown: nothing is held or
   * rebuilt by partition on logs.
   */
  processLogs?(data: LogsData): LogsData | Promise<LogsData>;
  /**
   * Hands out the held spans whose time came by `now` (epoch ms; Infinity: everything held,
   * when the stage stops). They count as outputs of the batch in progress: commit or abort
   * follows. The stage calls it after each batch and on a timer.
   */
  flush?(now: number): TracesData | Promise<TracesData>;
  /**
   * The first offset of the input partition whose spans this processor still holds (flushed
   * but not committed included), or undefined. The bus commits that partition only up to it,
   * so what is held is delivered again after a crash: a holding processor must recognise it.
   */
  heldFrom?(partition: number): string | undefined;
  /**
   * The outputs of every processTraces and flush call since the last commit or abort were
   * acknowledged by the next stage, and the batch's input will now be committed (short of
   * what is still held). A stateful processor makes its state changes of the batch final here.
   */
  commit?(): void;
  /**
   * The batch failed before its outputs were acknowledged and will be delivered again:
   * forget what it changed, or the redelivery would be judged against it; what flush handed
   * out is held again.
   */
  abort?(): void;
  /**
   * The bus is taking these input partitions away (a consumer-group rebalance): their messages
   * after the last commit go to whichever worker gets them. A processor that holds spans drops
   * those of these partitions (the new owner writes them); flush is not called until `assign`.
   */
  revoke?(partitions: number[]): void;
  /**
   * The input partitions this processor gets (at start and after each rebalance), before their
   * first message: a stateful processor rebuilds what it keeps of them (`recentOutput`), since
   * another worker may have written spans of them meanwhile.
   */
  assign?(partitions: number[]): Promise<void>;
  shutdown?(): Promise<void>;
}

/** The signals a processor can work on. */
export type ProcessorSignal = 'traces' | 'logs';

export interface ProcessorFactory<C = unknown> extends Factory<C> {
  kind: 'processor';
  /** The pipelines it may be in (default ['traces']); with 'logs' its processors implement processLogs. */
  signals?: ProcessorSignal[];
  create(config: C, context: ProcessorContext): Processor;
}

// ── exporters ────────────────────────────────────────────────────────────────

/** One bus message handed to an exporter, with where it came from. */
export interface Delivery<T> {
  value: T;
  topic: string;
  partition: number;
  offset: string;
}

export interface ExporterContext extends ComponentContext {
  /**
   * True when deliveries come from a durable log (Kafka): after a restart the same offsets
   * are delivered again, and the exporter must not write them twice.
   */
  durableBus: boolean;
}

export interface Exporter {
  start(): Promise<void>;
  /** Resolves once the data is durable in the sink (or its spool); rejects to be retried. */
  export<S extends Signal>(signal: S, deliveries: Delivery<SignalData[S]>[]): Promise<void>;
  shutdown(): Promise<void>;
}

export interface ExporterFactory<C = unknown> extends Factory<C> {
  kind: 'exporter';
  signals: Signal[];
  create(config: C, context: ExporterContext): Exporter;
}

export const processorSignals = (factory: ProcessorFactory): ProcessorSignal[] => factory.signals ?? ['traces'];

export type ComponentFactory = ReceiverFactory | ProcessorFactory | ExporterFactory;
