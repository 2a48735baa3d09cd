/**
 * Reading back a topic's recent messages on Kafka, for state rebuilds: a throwaway consumer
 * group (never committed, deleted afterwards) seeks each partition to the first offset at
 * or after `now - sinceMs` (at most `maxPerPartition` back from the end) and reads up to the
 * end offsets seen at the start.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Topic } from './bus.ts';
import { log } from '../log.ts';

const REPLAY_TIMEOUT_MS = 60_000;

export async function* replayTopic<T>(kafka: Kafka, topic: Topic<T>, sinceMs: number, maxPerPartition = 50_000): AsyncIterable<T> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `agentotel-replay-${randomUUID()}`;
  try {
    const ends = await admin.fetchTopicOffsets(topic.name);
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic.name, Date.now() - sinceMs);
    const plan = new Map<number, { from: bigint; to: bigint }>();
    for (const end of ends) {
      const high = BigInt(end.high);
      const low = BigInt(end.low);
      const byTime = starts.find((s) => s.partition === end.partition);
      let from = byTime && BigInt(byTime.offset) >= 0n ? BigInt(byTime.offset) : high;
      if (high - from > BigInt(maxPerPartition)) from = high - BigInt(maxPerPartition);
      if (from < low) from = low;
      if (from < high) plan.set(end.partition, { from, to: high });
    }
    if (plan.size === 0) return;

    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    const collected: T[] = [];
    const remaining = new Set(plan.keys());
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: topic.name, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const p = plan.get(batch.partition);
          if (!p) return;
          for (const m of batch.messages) {
            const offset = BigInt(m.offset);
            if (offset < p.from || offset >= p.to || !m.value) continue;
            try {
              collected.push(topic.codec.decode(m.value));
            } catch {
              // An undecodable message never became state; skip it.
            }
          }
          if (BigInt(batch.lastOffset()) + 1n >= p.to) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) finish();
          }
        },
      });
      for (const [partition, p] of plan) consumer.seek({ topic: topic.name, partition, offset: p.from.toString() });
      // A partition that never reaches its end (deleted records, a broker gone) must not keep
      // the caller from starting: go on with what was read, and say so.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), REPLAY_TIMEOUT_MS)));
      if (await Promise.race([done.then(() => false), timedOut])) {
        log('warn', `replay of ${topic.name} stopped after ${REPLAY_TIMEOUT_MS} ms`, {
          partitionsUnfinished: remaining.size,
          messages: collected.length,
        });
      }
      clearTimeout(timer);
    } finally {
      await consumer.disconnect();
    }
    yield* collected;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
