/**
 * Reading a topic back on Kafka, outside the stages' consumer groups: for state rebuilds (a
 * processor's recent output) and for tools (the dead letters). A throwaway consumer group
 * (never committed, deleted afterwards) seeks each partition to where the read starts and
 * reads up to the end offsets seen at the start.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, IHeaders, Kafka } from 'kafkajs';
import type { Headers, Topic } from './bus.ts';
import { log } from '../log.ts';

const READ_TIMEOUT_MS = 60_000;

export interface TopicRecord {
  partition: number;
  offset: string;
  key: string;
  headers: Headers;
  /** When the record was produced (ms since the epoch). */
  timestamp: number;
  value: Buffer;
}

export interface ReadOptions {
  /** Only what was published in the last `sinceMs` (default: everything the topic still has). */
  sinceMs?: number;
  /** Only these partitions (default: all). */
  partitions?: number[];
  /** At most this many records back from each partition's end. */
  maxPerPartition?: number;
}

/** Kafka headers as strings (a repeated header joined with commas). */
export function recordHeaders(headers: IHeaders | undefined): Headers {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v?.toString() ?? '')]));
}

/** Errors of metadata that lags behind the cluster (a topic created a moment ago): asking again after a refresh helps. */
const STALE_METADATA = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION']);

export function isStaleMetadata(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type && STALE_METADATA.has(e.type)) return true;
  }
  return false;
}

/**
 * Runs `attempt` with a fresh admin client until it succeeds, retrying (with a growing delay)
 * while it fails on stale metadata: kafkajs gives up on "not the leader for that
 * topic-partition" at once, which a worker starting right after its topics were created meets.
 */
export async function withFreshMetadata<T>(
  kafka: Kafka,
  what: string,
  attempt: (admin: Admin) => Promise<T>,
  { attempts = 10, delayMs = 200 }: { attempts?: number; delayMs?: number } = {},
): Promise<T> {
  for (let i = 1; ; i++) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      return await attempt(admin);
    } catch (err) {
      if (i >= attempts || !isStaleMetadata(err)) throw err;
      log('warn', `${what}: stale Kafka metadata, retrying`, { error: (err as Error).message, attempt: i });
      await new Promise((r) => setTimeout(r, Math.min(delayMs * 2 ** (i - 1), 3_000)));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

/** Where each partition's read starts and ends (exclusive); partitions with nothing to read are left out. */
async function readPlan(admin: Admin, topic: string, options: ReadOptions): Promise<Map<number, { from: bigint; to: bigint }>> {
  const ends = await admin.fetchTopicOffsets(topic);
  const starts = options.sinceMs === undefined ? undefined : await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - options.sinceMs);
  const wanted = options.partitions && new Set(options.partitions);
  const plan = new Map<number, { from: bigint; to: bigint }>();
  for (const end of ends) {
    if (wanted && !wanted.has(end.partition)) continue;
    const high = BigInt(end.high);
    const low = BigInt(end.low);
    let from = low;
    if (starts) {
      const byTime = starts.find((s) => s.partition === end.partition);
      from = byTime && BigInt(byTime.offset) >= 0n ? BigInt(byTime.offset) : high;
    }
    if (options.maxPerPartition !== undefined && high - from > BigInt(options.maxPerPartition))
      from = high - BigInt(options.maxPerPartition);
    if (from < low) from = low;
    if (from < high) plan.set(end.partition, { from, to: high });
  }
  return plan;
}

/** Reads a topic's records (oldest first per partition) up to the end offsets seen when the read started. */
export async function readTopic(kafka: Kafka, topic: string, options: ReadOptions = {}): Promise<TopicRecord[]> {
  const plan = await withFreshMetadata(kafka, `reading ${topic}`, (admin) => readPlan(admin, topic, options));
  if (plan.size === 0) return [];
  const groupId = `agentotel-replay-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  const records: TopicRecord[] = [];
  const remaining = new Set(plan.keys());
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const p = plan.get(batch.partition);
        if (!p) return;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < p.from || offset >= p.to || !m.value) continue;
          records.push({
            partition: batch.partition,
            offset: m.offset,
            key: m.key?.toString() ?? '',
            headers: recordHeaders(m.headers),
            timestamp: Number(m.timestamp),
            value: m.value,
          });
        }
        if (BigInt(batch.lastOffset()) + 1n >= p.to) {
          remaining.delete(batch.partition);
          if (remaining.size === 0) finish();
        }
      },
    });
    for (const [partition, p] of plan) consumer.seek({ topic, partition, offset: p.from.toString() });
    // A partition that never reaches its end (deleted records, a broker gone) must not keep the
    // caller waiting forever: go on with what was read, and say so.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), READ_TIMEOUT_MS)));
    if (await Promise.race([done.then(() => false), timedOut])) {
      log('warn', `reading ${topic} stopped after ${READ_TIMEOUT_MS} ms`, {
        partitionsUnfinished: remaining.size,
        messages: records.length,
      });
    }
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
    await withFreshMetadata(kafka, `deleting the group of a read of ${topic}`, (admin) => admin.deleteGroups([groupId])).catch(
      () => undefined,
    );
  }
  records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  return records;
}

/**
 * What was published to a topic in the last `sinceMs` (at most `maxPerPartition` messages back
 * from each partition's end), decoded, with its partition; undecodable messages never became
 * state and are skipped.
 */
export async function* replayTopic<T>(
  kafka: Kafka,
  topic: Topic<T>,
  sinceMs: number,
  partitions?: number[],
  maxPerPartition = 50_000,
): AsyncIterable<{ partition: number; value: T }> {
  for (const record of await readTopic(kafka, topic.name, { sinceMs, partitions, maxPerPartition })) {
    let value: T;
    try {
      value = topic.codec.decode(record.value);
    } catch {
      continue;
    }
    yield { partition: record.partition, value };
  }
}
