/**
 * The bus between pipeline stages. Kafka in distributed mode, an in-process queue in
 * embedded mode; processors and exporters only see this interface.
 *
 * Delivery is at-least-once: a subscriber's handler gets a batch, and the batch's offsets
 * are committed only after the handler resolves. A handler that throws leaves them
 * uncommitted, and the batch is delivered again. A subscriber that keeps what it consumed in
 * memory beyond its batch (the dedupe processor's merge window) says from which offset it does
 * (`heldFrom`), and the bus commits nothing from there on until it is released.
 */
import type { Signal, SignalData } from '../otlp/model.ts';

export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** A named topic and the encoding of its values. */
export interface Topic<T> {
  name: string;
  codec: Codec<T>;
}

export type Headers = Record<string, string>;

export interface OutgoingMessage<T> {
  key: string;
  value: T;
  headers?: Headers;
}

interface Position {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  headers: Headers;
}

/** A consumed message: decoded, or (a poison message) the raw bytes and why decoding failed. */
export type IncomingMessage<T> = (Position & { ok: true; value: T }) | (Position & { ok: false; raw: Uint8Array; error: Error });

export type BatchHandler<T> = (batch: IncomingMessage<T>[]) => Promise<void>;

export interface SubscribeOptions {
  /** Consumer group; one group per pipeline stage. */
  group: string;
  /** Start from the earliest offset when the group has none (default true). */
  fromBeginning?: boolean;
  /**
   * Batches handled at once (Kafka: partitions consumed concurrently), each still committed
   * only after its handler resolves. Default 1: a stage whose state spans batches (a
   * processor's commit/abort) must see one batch at a time.
   */
  concurrency?: number;
  /**
   * The first offset of a partition whose messages the subscriber still holds in memory (their
   * results not yet published), or undefined when it holds none. The bus commits a partition
   * only up to it, so a crash delivers those messages again; it asks after each batch and,
   * while a partition's commit lags behind what was handled, every second. Ignored by a bus
   * that keeps nothing across restarts (in-process).
   */
  heldFrom?(partition: number): string | undefined;
  /**
   * The group is taking partitions away from this subscriber (Kafka: a rebalance began, or the
   * member was dropped from the group). Called at once, between batches, before the new
   * assignment: what was handled of them after their last commit is delivered again, to
   * whichever member gets them, so state kept of it is the subscriber's to drop now.
   */
  onRevoked?(partitions: number[]): void;
  /**
   * The partitions this subscriber consumes from now on (Kafka: after each rebalance, the first
   * join included; in-process: partition 0). Awaited before the first message of the assignment
   * is handled (and, for the first assignment, before subscribe resolves); a rejection is
   * retried like a failing handler. Delivery of each assigned partition resumes at its last
   * committed offset.
   */
  onAssigned?(partitions: number[]): Promise<void>;
}

export interface Subscription {
  /** Stops fetching, waits for the batch in flight to finish and commit. */
  stop(): Promise<void>;
  /** Messages waiting in this subscription's partitions, as of the last fetch. */
  lag(): number;
}

export interface Bus {
  readonly kind: 'kafka' | 'inprocess';
  /** Creates the topics that do not exist yet. */
  ensureTopics(names: string[]): Promise<void>;
  /** Resolves once every message is acknowledged (Kafka: by all in-sync replicas). */
  publish<T>(topic: Topic<T>, messages: OutgoingMessage<T>[]): Promise<void>;
  subscribe<T>(topic: Topic<T>, options: SubscribeOptions, handler: BatchHandler<T>): Promise<Subscription>;
  /**
   * Reads back what was published to a topic in the last `sinceMs` (all partitions, or those
   * listed; oldest first per partition) without joining the stage's group: how a stateful
   * processor rebuilds its state. Absent on buses that keep nothing across restarts.
   */
  replay?<T>(topic: Topic<T>, sinceMs: number, partitions?: number[]): AsyncIterable<{ partition: number; value: T }>;
  /** The number of partitions of a topic (absent on a bus without partitions). */
  partitionCount?(topic: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Raised by publish, before anything is sent, when a message is larger than the bus takes
 * (Kafka's max.message.bytes). Sending it again cannot help: the caller splits or rejects it.
 */
export class MessageTooLargeError extends Error {
  override name = 'MessageTooLargeError';
  constructor(
    readonly index: number,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`message ${index} is ${bytes} bytes encoded, over the bus limit of ${limit} bytes`);
  }
}

/** Raised by publish when the bus cannot take the messages now (broker down, queue closed). */
export class BusUnavailableError extends Error {
  override name = 'BusUnavailableError';
}

/** The earlier of two offsets of one partition (decimal strings); undefined counts as none. */
export function earlierOffset(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return BigInt(a) <= BigInt(b) ? a : b;
}

export type SignalTopic<S extends Signal> = Topic<SignalData[S]>;
