/**
 * The distributed mode's bus on Apache Kafka (kafkajs). Idempotent producer acknowledged by
 * all in-sync replicas; one consumer group per stage; offsets committed only after the
 * handler resolves (and short of what the subscriber still holds: SubscribeOptions.heldFrom);
 * a failing handler is retried in place (in order) until it succeeds or the subscription stops,
 * so nothing after it is committed past it. A rebalance tells the subscriber which partitions
 * it loses (SubscribeOptions.onRevoked) and gets (onAssigned, awaited before their first batch).
 */
import {
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type KafkaConfig,
  type KafkaMessage,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { Bus, BatchHandler, IncomingMessage, OutgoingMessage, SubscribeOptions, Subscription, Topic } from './bus.ts';
import { BusUnavailableError, MessageTooLargeError } from './bus.ts';
import { log } from '../log.ts';
import { readTopic, recordHeaders, replayTopic, withFreshMetadata, type ReadOptions, type TopicRecord } from './kafka-replay.ts';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Partitions of topics this bus creates. */
  partitions: number;
  replicationFactor: number;
  tls?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Delay between attempts of a failing handler (default 1 s, doubling to 30 s). */
  retryDelayMs?: number;
  /**
   * Largest encoded message, and largest produce request, this bus sends (default 1,000,000:
   * under Kafka's default max.message.bytes of 1 MiB, which bounds a partition's record batch).
   */
  maxMessageBytes?: number;
  /**
   * How long the group waits for a silent consumer (a killed worker) before giving its
   * partitions to another (default 30 s; the broker bounds it by group.min.session.timeout.ms).
   */
  sessionTimeoutMs?: number;
}

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private producer?: Promise<Producer>;
  private readonly consumers = new Set<Consumer>();

  constructor(private readonly options: KafkaBusOptions) {
    const config: KafkaConfig = {
      clientId: options.clientId,
      brokers: options.brokers,
      ssl: options.tls,
      sasl: options.sasl as SASLOptions | undefined,
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ namespace, level, label, log: entry }) => {
          // kafkajs entries never carry SASL secrets; pass on only the message and broker.
          log(level <= logLevel.ERROR ? 'error' : 'warn', `kafka ${label} ${namespace}: ${entry.message}`, {
            broker: entry.broker as string | undefined,
          });
        },
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    };
    this.kafka = new Kafka(config);
  }

  async ensureTopics(names: string[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const missingFrom = async (wanted: string[]) => {
        const existing = new Set(await admin.listTopics());
        return wanted.filter((n) => !existing.has(n));
      };
      const missing = await missingFrom([...new Set(names)]);
      if (missing.length === 0) return;
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: this.options.partitions,
            replicationFactor: this.options.replicationFactor,
          })),
        });
      } catch (err) {
        // Another process may have created some of them between list and create.
        if ((await missingFrom(missing)).length > 0) throw err;
      }
    } finally {
      await admin.disconnect();
    }
  }

  private getProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // The Java client's murmur2 key hash: a key lands where Java producers put it too.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      return producer;
    })().catch((err) => {
      this.producer = undefined;
      throw err;
    });
    return this.producer;
  }

  async publish<T>(topic: Topic<T>, messages: OutgoingMessage<T>[]): Promise<void> {
    if (messages.length === 0) return;
    // Encoding errors are the caller's (bad value), not the bus being unavailable.
    const limit = this.options.maxMessageBytes ?? 1_000_000;
    const records = messages.map((m) => ({ key: m.key, value: asBuffer(topic.codec.encode(m.value)), headers: m.headers }));
    const tooLarge = records.findIndex((r) => r.value.length > limit);
    if (tooLarge >= 0) throw new MessageTooLargeError(tooLarge, records[tooLarge]!.value.length, limit);
    try {
      const producer = await this.getProducer();
      // kafkajs sends one record batch per partition; keep each request under the limit.
      for (const chunk of chunksUnder(records, limit)) await producer.send({ topic: topic.name, acks: -1, messages: chunk });
    } catch (err) {
      throw new BusUnavailableError(`kafka publish to ${topic.name} failed: ${(err as Error).message}`);
    }
  }

  async subscribe<T>(topic: Topic<T>, options: SubscribeOptions, handler: BatchHandler<T>): Promise<Subscription> {
    const sessionTimeout = this.options.sessionTimeoutMs ?? 30_000;
    const consumer = this.kafka.consumer({
      groupId: options.group,
      allowAutoTopicCreation: false,
      sessionTimeout,
      heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
      // stop() waits for the fetch in flight: an idle long poll of kafkajs's default 5 s
      // would delay every shutdown by that much.
      maxWaitTimeInMs: 500,
      // Bigger fetches, bigger batches: an exporter's inserts grow from ~5,000 to ~8,000 rows,
      // which ClickHouse parses and merges for a third less CPU a span.
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 16 * 1024 * 1024,
    });
    const lagByPartition = new Map<number, number>();
    // By partition: the offset after the last handled batch, and the offset committed. They
    // differ while the subscriber holds messages (options.heldFrom).
    const handled = new Map<number, bigint>();
    const committed = new Map<number, bigint>();
    /** This member's partitions, and the subscriber's preparation for them (options.onAssigned). */
    let assignment: { partitions: number[]; ready?: Promise<void> } | undefined;
    // kafkajs's groups rebalance eagerly: every member gives up all its partitions, and after
    // the join resumes each partition it is assigned at its committed offset. What was handled
    // past a commit is delivered again, so nothing handled before counts any more.
    const revokeAll = () => {
      if (!assignment) return;
      const { partitions } = assignment;
      assignment = undefined;
      for (const byPartition of [lagByPartition, handled, committed]) byPartition.clear();
      try {
        options.onRevoked?.(partitions);
      } catch (err) {
        log('error', `revoking partitions of ${topic.name} failed`, { error: (err as Error).message });
      }
    };
    consumer.on(consumer.events.REBALANCING, revokeAll);
    /** Resolves once the subscriber is ready for the current assignment; a failure is tried again on the next call. */
    const assigned = (): Promise<void> => {
      const current = assignment;
      if (!current || !options.onAssigned) return Promise.resolve();
      current.ready ??= options.onAssigned(current.partitions).catch((err: unknown) => {
        current.ready = undefined;
        throw err;
      });
      return current.ready;
    };
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      revokeAll(); // a member the group dropped (session timeout) joins again without a REBALANCING event
      assignment = { partitions: [...(payload.memberAssignment[topic.name] ?? [])].sort((a, b) => a - b) };
      // Prepared at once; the first batch waits for it (and tries again if it failed).
      assigned().catch((err: unknown) =>
        log('warn', `preparing for partitions of ${topic.name} failed; retrying with the first batch`, { error: (err as Error).message }),
      );
    });
    let commits: Promise<unknown> = Promise.resolve();
    /**
     * Commits a partition up to what was handled, short of what the subscriber still holds.
     * Serialised and only forward, so a commit of released messages never undoes a batch's.
     */
    const commitPartition = (partition: number, send: (offset: string) => Promise<unknown>): Promise<void> => {
      const run = commits.then(async () => {
        const upTo = handled.get(partition);
        if (upTo === undefined) return;
        const held = options.heldFrom?.(partition);
        const offset = held !== undefined && BigInt(held) < upTo ? BigInt(held) : upTo;
        if (offset <= (committed.get(partition) ?? -1n)) return;
        await send(offset.toString());
        committed.set(partition, offset);
      });
      commits = run.catch(() => undefined);
      return run;
    };
    // Messages the subscriber releases between batches are committed without waiting for the
    // partition's next batch (which may never come).
    let releasing = false;
    const commitReleased = async () => {
      if (releasing) return;
      releasing = true;
      try {
        await Promise.all(
          [...handled.keys()].map((partition) =>
            commitPartition(partition, (offset) => consumer.commitOffsets([{ topic: topic.name, partition, offset }])),
          ),
        );
      } catch (err) {
        log('warn', `kafka commit of released messages of ${topic.name} failed; retrying`, { error: (err as Error).message });
      } finally {
        releasing = false;
      }
    };
    const releaseTimer = options.heldFrom ? setInterval(() => void commitReleased(), 1_000) : undefined;
    releaseTimer?.unref();
    consumer.on(consumer.events.DISCONNECT, () => clearInterval(releaseTimer)); // also when the bus closes
    let stopping = false;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: topic.name, fromBeginning: options.fromBeginning ?? true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.concurrency ?? 1,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary }) => {
          if (batch.messages.length === 0) return;
          lagByPartition.set(batch.partition, Math.max(0, Number(batch.offsetLagLow()) + 1));
          const messages = batch.messages.map((m) => toIncoming(topic, batch.topic, batch.partition, m));
          let delay = this.options.retryDelayMs ?? 1_000;
          for (;;) {
            if (!isRunning() || isStale()) return; // not committed: redelivered to whoever owns the partition
            try {
              await assigned();
              await handler(messages);
              break;
            } catch (err) {
              log('warn', `handler for ${topic.name}[${batch.partition}] failed, retrying`, {
                error: (err as Error).message,
                delayMs: delay,
              });
              // A heartbeat that fails (the group is rebalancing) ends the batch uncommitted.
              await sleepWithHeartbeat(delay, heartbeat, () => stopping);
              delay = Math.min(delay * 2, 30_000);
            }
          }
          // Resolving moves this consumer's fetch position; committing moves the group's.
          resolveOffset(batch.lastOffset());
          handled.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
          await commitPartition(batch.partition, (offset) =>
            commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset }] }] }),
          );
          lagByPartition.set(batch.partition, Math.max(0, Number(batch.offsetLag())));
          await heartbeat();
        },
      });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw new BusUnavailableError(`kafka subscribe to ${topic.name} failed: ${(err as Error).message}`);
    }
    this.consumers.add(consumer);
    // Joined: a subscriber is running once it is ready for its first partitions (a failure is retried by the first batch).
    await assigned().catch(() => undefined);
    return {
      stop: async () => {
        stopping = true;
        // What the subscriber released since its partitions' last batches (a stopping stage flushes).
        if (options.heldFrom) await commitReleased();
        await consumer.disconnect(); // waits for the running eachBatch to finish
        this.consumers.delete(consumer);
      },
      lag: () => [...lagByPartition.values()].reduce((a, b) => a + b, 0),
    };
  }

  replay<T>(topic: Topic<T>, sinceMs: number, partitions?: number[]): AsyncIterable<{ partition: number; value: T }> {
    return replayTopic(this.kafka, topic, sinceMs, partitions);
  }

  async hasTopic(topic: string): Promise<boolean> {
    return withFreshMetadata(this.kafka, 'listing topics', async (admin) => (await admin.listTopics()).includes(topic));
  }

  async partitionCount(topic: string): Promise<number> {
    const { topics } = await withFreshMetadata(this.kafka, `describing ${topic}`, (admin) => admin.fetchTopicMetadata({ topics: [topic] }));
    return topics[0]!.partitions.length;
  }

  /** A topic's records with their positions, keys, headers and times (for tools: `agentotel dlq`). */
  read(topic: string, options?: ReadOptions): Promise<TopicRecord[]> {
    return readTopic(this.kafka, topic, options);
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    if (this.producer) {
      const producer = await this.producer.catch(() => undefined);
      await producer?.disconnect();
      this.producer = undefined;
    }
  }
}

function toIncoming<T>(topic: Topic<T>, topicName: string, partition: number, m: KafkaMessage): IncomingMessage<T> {
  const position = {
    topic: topicName,
    partition,
    offset: m.offset,
    key: m.key?.toString() ?? '',
    headers: recordHeaders(m.headers),
  };
  const raw = m.value ?? Buffer.alloc(0);
  try {
    return { ...position, ok: true, value: topic.codec.decode(raw) };
  } catch (error) {
    return { ...position, ok: false, raw, error: error instanceof Error ? error : new Error(String(error)) };
  }
}

async function sleepWithHeartbeat(ms: number, heartbeat: () => Promise<void>, stop: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !stop()) {
    await new Promise((r) => setTimeout(r, Math.min(1_000, until - Date.now())));
    await heartbeat();
  }
}

/** Consecutive runs of records whose values add up to at most `limit` bytes. */
function* chunksUnder<R extends { value: Buffer }>(records: R[], limit: number): Generator<R[]> {
  let chunk: R[] = [];
  let bytes = 0;
  for (const r of records) {
    if (chunk.length > 0 && bytes + r.value.length > limit) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(r);
    bytes += r.value.length;
  }
  if (chunk.length > 0) yield chunk;
}

/** kafkajs wants Buffers; most codecs already return one, so copy only when they do not. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
