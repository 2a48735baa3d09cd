/** The Kafka bus against the real test broker (test/kafka/broker.sh, started by the global setup). */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, uniqueTopicPrefix } from '../../test/helpers/kafka.ts';
import { spanIdFor, traceIdFor } from '../ids.ts';
import { decodeProtobuf, OtlpDecodeError } from '../otlp/codec.ts';
import type { TracesData } from '../otlp/model.ts';
import { KafkaBus, type KafkaBusOptions } from './kafka.ts';
import { withFreshMetadata } from './kafka-replay.ts';
import { BusUnavailableError, type IncomingMessage, type OutgoingMessage, type Subscription, type Topic } from './bus.ts';
import { rawCodec, signalTopic } from './topics.ts';

function traces(session: string, spans = 2): TracesData {
  const traceId = traceIdFor('claude-code', session);
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
        scopeSpans: [
          {
            scope: { name: 'agentotel.test' },
            spans: Array.from({ length: spans }, (_, i) => ({
              traceId,
              spanId: spanIdFor(traceId, 'turn', String(i)),
              name: `turn ${i}`,
              kind: 1,
              startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
              endTimeUnixNano: String(1_700_000_000_500_000_000n + BigInt(i)),
              attributes: [
                { key: 'session.id', value: { stringValue: session } },
                { key: 'gen_ai.usage.input_tokens', value: { intValue: String(100 + i) } },
              ],
            })),
          },
        ],
      },
    ],
  };
}

const message = (session: string): OutgoingMessage<TracesData> => {
  const value = traces(session);
  return { key: value.resourceSpans![0]!.scopeSpans![0]!.spans![0]!.traceId, value };
};

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

let admin: Admin;
const buses: KafkaBus[] = [];
const subscriptions: Subscription[] = [];

function newBus(options: Partial<KafkaBusOptions> = {}): KafkaBus {
  const bus = new KafkaBus({
    brokers: kafkaBrokers(),
    clientId: 'bus-test',
    partitions: 3,
    replicationFactor: 1,
    retryDelayMs: 50,
    ...options,
  });
  buses.push(bus);
  return bus;
}

/** Creates `name` and returns the traces topic and a raw-bytes view of the same topic. */
async function topicPair(bus: KafkaBus, name: string): Promise<{ topic: Topic<TracesData>; raw: Topic<Uint8Array> }> {
  await bus.ensureTopics([name]);
  return { topic: signalTopic(name, 'traces'), raw: { name, codec: rawCodec } };
}

async function committed(group: string, topic: string): Promise<Record<number, string>> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return Object.fromEntries(offsets!.partitions.map((p) => [p.partition, p.offset]));
}

beforeAll(async () => {
  admin = new Kafka({ clientId: 'bus-test-admin', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
});

afterEach(async () => {
  await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

describe('KafkaBus on a real broker', () => {
  it('creates missing topics with the configured partitions, and again is a no-op', async () => {
    const prefix = uniqueTopicPrefix('ensure');
    const bus = newBus({ partitions: 4 });
    await bus.ensureTopics([`${prefix}a`, `${prefix}b`, `${prefix}a`]);
    await bus.ensureTopics([`${prefix}a`, `${prefix}b`]);
    await newBus({ partitions: 2 }).ensureTopics([`${prefix}b`, `${prefix}c`]); // one exists, one new

    const { topics } = await admin.fetchTopicMetadata({ topics: [`${prefix}a`, `${prefix}b`, `${prefix}c`] });
    const partitions = Object.fromEntries(topics.map((t) => [t.name.slice(prefix.length), t.partitions.length]));
    expect(partitions).toEqual({ a: 4, b: 4, c: 2 });
  });

  it('carries TracesData as OTLP protobuf ExportTraceServiceRequest keyed by trace id, one key on one partition', async () => {
    const prefix = uniqueTopicPrefix('roundtrip');
    const bus = newBus();
    const { topic, raw } = await topicPair(bus, `${prefix}traces`);
    const sessions = Array.from({ length: 30 }, (_, i) => `session-${i}`);
    const sent = sessions.map(message);
    await bus.publish(topic, sent);
    // A second round of the same sessions, with headers: same keys, so same partitions, in order.
    await bus.publish(
      topic,
      sent.map((m) => ({ ...m, headers: { round: '2' } })),
    );

    const decoded: IncomingMessage<TracesData>[] = [];
    const bytes: IncomingMessage<Uint8Array>[] = [];
    subscriptions.push(await bus.subscribe(topic, { group: `${prefix}decoded` }, async (batch) => void decoded.push(...batch)));
    subscriptions.push(await bus.subscribe(raw, { group: `${prefix}raw` }, async (batch) => void bytes.push(...batch)));
    await waitFor(() => decoded.length === 60 && bytes.length === 60);

    expect(decoded.every((m) => m.ok)).toBe(true);
    const byKey = new Map<string, IncomingMessage<TracesData>[]>();
    for (const m of decoded) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m]);
    expect(byKey.size).toBe(30);
    for (const sentMessage of sent) {
      const [first, second] = byKey.get(sentMessage.key)!;
      expect(first).toMatchObject({ ok: true, value: sentMessage.value, headers: {} });
      expect(second).toMatchObject({ ok: true, value: sentMessage.value, headers: { round: '2' } });
      expect(second!.partition).toBe(first!.partition);
      expect(BigInt(second!.offset)).toBeGreaterThan(BigInt(first!.offset));
      if (first!.ok) expect(first!.value.resourceSpans![0]!.scopeSpans![0]!.spans!.every((s) => s.traceId === first!.key)).toBe(true);
    }
    expect(new Set(decoded.map((m) => m.partition)).size).toBeGreaterThan(1); // 30 keys spread over 3 partitions

    // On the wire: the OTLP protobuf request, as a stock otelcol's otlp_proto encoding reads it.
    for (const m of bytes) {
      if (!m.ok) throw m.error;
      const fromWire = decodeProtobuf('traces', m.value);
      expect(fromWire).toEqual(sent.find((s) => s.key === m.key)!.value);
    }
  });

  it('commits only after the handler resolves: a failing batch comes back until it succeeds', async () => {
    const prefix = uniqueTopicPrefix('retry');
    const bus = newBus({ partitions: 1 });
    const { topic } = await topicPair(bus, `${prefix}traces`);
    await bus.publish(topic, ['a', 'b', 'c'].map(message));
    const group = `${prefix}g`;

    const attempts: string[][] = [];
    const offsetsSeenByHandler: Record<number, string>[] = [];
    subscriptions.push(
      await bus.subscribe(topic, { group }, async (batch) => {
        attempts.push(batch.map((m) => m.offset));
        offsetsSeenByHandler.push(await committed(group, topic.name));
        if (attempts.length < 3) throw new Error('exporter down');
      }),
    );
    await waitFor(() => attempts.length === 3);
    let after: string | undefined;
    for (const until = Date.now() + 10_000; after !== '3' && Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
      after = (await committed(group, topic.name))[0];
    }

    expect(attempts).toEqual([
      ['0', '1', '2'],
      ['0', '1', '2'],
      ['0', '1', '2'],
    ]);
    expect(offsetsSeenByHandler.map((o) => o[0])).toEqual(['-1', '-1', '-1']); // nothing committed while failing
    expect(after).toBe('3');
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts).toHaveLength(3); // and once committed, not delivered again
  });

  it('stop waits for the batch in flight and commits it; a batch that fails during stop is left for the next consumer', async () => {
    const prefix = uniqueTopicPrefix('stop');
    const bus = newBus({ partitions: 1 });
    const { topic } = await topicPair(bus, `${prefix}traces`);
    const group = `${prefix}g`;
    await bus.publish(topic, ['a', 'b'].map(message));

    // 1. Resolves after stop was called: committed.
    const release = gate();
    let inHandler = false;
    const first = await bus.subscribe(topic, { group }, async () => {
      inHandler = true;
      await release.promise;
    });
    await waitFor(() => inHandler);
    const stopping = first.stop();
    await new Promise((r) => setTimeout(r, 100));
    release.open();
    await stopping;
    expect((await committed(group, topic.name))[0]).toBe('2');

    // 2. Fails after stop was called: not committed, the same group's next consumer gets it.
    await bus.publish(topic, ['c', 'd'].map(message));
    const fail = gate();
    inHandler = false;
    const second = await bus.subscribe(topic, { group }, async () => {
      inHandler = true;
      await fail.promise;
      throw new Error('shutting down');
    });
    await waitFor(() => inHandler);
    const stopping2 = second.stop();
    fail.open();
    await stopping2;
    expect((await committed(group, topic.name))[0]).toBe('2');

    const got: string[] = [];
    subscriptions.push(await bus.subscribe(topic, { group }, async (batch) => void got.push(...batch.map((m) => m.offset))));
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['2', '3']);
  });

  it('gives the batch of a consumer killed before its handler resolved to the next consumer of the group', async () => {
    const prefix = uniqueTopicPrefix('crash');
    const bus = newBus({ partitions: 1, sessionTimeoutMs: 6_000 });
    const { topic } = await topicPair(bus, `${prefix}traces`);
    const group = `${prefix}g`;
    await bus.publish(topic, ['a', 'b', 'c', 'd'].map(message));

    const script = fileURLToPath(new URL('./testdata/hanging-consumer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, BROKERS: kafkaBrokers().join(','), TOPIC: topic.name, GROUP: group },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`hanging consumer exited with ${code}`)));
    });
    expect(JSON.parse(firstLine)).toEqual(['0', '1', '2', '3']);
    child.kill('SIGKILL');
    await exited;

    const got: string[] = [];
    subscriptions.push(await bus.subscribe(topic, { group }, async (batch) => void got.push(...batch.map((m) => m.offset))));
    await waitFor(() => got.length === 4, 45_000);
    expect(got).toEqual(['0', '1', '2', '3']);
  });

  it('hands over bytes that do not decode as ok:false with the raw bytes, and the rest of the batch decoded', async () => {
    const prefix = uniqueTopicPrefix('poison');
    const bus = newBus({ partitions: 1 });
    const { topic, raw } = await topicPair(bus, `${prefix}traces`);
    const poison = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]); // field 1, length far past the end
    await bus.publish(raw, [{ key: 'poison', value: poison, headers: { origin: 'test' } }]);
    await bus.publish(topic, [message('after-poison')]);

    const got: IncomingMessage<TracesData>[] = [];
    subscriptions.push(await bus.subscribe(topic, { group: `${prefix}g` }, async (batch) => void got.push(...batch)));
    await waitFor(() => got.length === 2);

    const [bad, good] = got;
    expect(bad).toMatchObject({ ok: false, key: 'poison', offset: '0', headers: { origin: 'test' } });
    if (bad!.ok) throw new Error('poison decoded');
    expect(Buffer.from(bad!.raw).equals(Buffer.from(poison))).toBe(true);
    expect(bad!.error).toBeInstanceOf(OtlpDecodeError);
    expect(bad!.error.message).toMatch(/invalid OTLP protobuf traces request/);
    expect(good).toMatchObject({ ok: true, key: message('after-poison').key, value: message('after-poison').value });
  });

  it('reports lag: the batch in hand while it is handled, nothing once it is committed', async () => {
    const prefix = uniqueTopicPrefix('lag');
    const bus = newBus({ partitions: 2 });
    const { topic } = await topicPair(bus, `${prefix}traces`);
    const sent = Array.from({ length: 20 }, (_, i) => message(`lag-${i}`));
    await bus.publish(topic, sent);

    const release = gate();
    let handled = 0;
    let inHandler = false;
    const sub = await bus.subscribe(topic, { group: `${prefix}g` }, async (batch) => {
      inHandler = true;
      await release.promise;
      handled += batch.length;
    });
    subscriptions.push(sub);
    expect(sub.lag()).toBe(0);
    await waitFor(() => inHandler);
    const perPartition = new Map<number, number>();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic.name] });
    expect(topics[0]!.partitions).toHaveLength(2);
    for (const offsets of await admin.fetchTopicOffsets(topic.name)) perPartition.set(offsets.partition, Number(offsets.high));
    expect([...perPartition.values()].reduce((a, b) => a + b, 0)).toBe(20);
    // The batch being handled is one partition's messages, all of them still waiting.
    expect([...perPartition.values()]).toContain(sub.lag());

    release.open();
    await waitFor(() => handled === 20);
    await waitFor(() => sub.lag() === 0, 5_000);
  });

  it('rejects a value its codec cannot encode as the caller error it is, not as the bus being down', async () => {
    const prefix = uniqueTopicPrefix('encode');
    const bus = newBus({ partitions: 1 });
    const { topic } = await topicPair(bus, `${prefix}traces`);
    const broken = { resourceSpans: 'not a list' } as unknown as TracesData;
    const error = await bus.publish(topic, [{ key: 'k', value: broken }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BusUnavailableError);
  });

  it('tells each member the partitions it loses and gets in a rebalance, before any batch of them', async () => {
    const prefix = uniqueTopicPrefix('rebalance');
    const bus = newBus({ partitions: 4, sessionTimeoutMs: 3_000 });
    const { topic } = await topicPair(bus, `${prefix}traces`);
    const group = `${prefix}g`;
    const sessions = Array.from({ length: 24 }, (_, i) => `rebalance-${i}`);
    await bus.publish(topic, sessions.map(message));

    const events: Record<'a' | 'b', string[]> = { a: [], b: [] };
    const handled = new Set<string>();
    const member = async (name: 'a' | 'b') => {
      const sub = await bus.subscribe(
        topic,
        {
          group,
          onRevoked: (partitions) => void events[name].push(`revoked ${partitions}`),
          onAssigned: async (partitions) => {
            await new Promise((r) => setTimeout(r, 100)); // a rebuild takes a while: no batch before it is done
            events[name].push(`assigned ${partitions}`);
          },
        },
        async (batch) => {
          events[name].push(`batch ${batch[0]!.partition}`);
          for (const m of batch) handled.add(`${m.partition}/${m.offset}`);
        },
      );
      subscriptions.push(sub);
    };
    await member('a');
    await waitFor(() => handled.size === sessions.length);
    await member('b');
    await waitFor(() => events.b.some((e) => e.startsWith('assigned')) && events.a.filter((e) => e.startsWith('assigned')).length === 2);
    await bus.publish(topic, sessions.map(message)); // each partition's new messages go to its new owner

    await waitFor(() => handled.size === 2 * sessions.length);
    expect(events.a[0]).toBe('assigned 0,1,2,3');
    const revoked = events.a.indexOf('revoked 0,1,2,3');
    expect(revoked).toBeGreaterThan(0);
    const assignedOf = (e: string | undefined) => e!.slice('assigned '.length).split(',').map(Number);
    const a = assignedOf(events.a.slice(revoked).find((e) => e.startsWith('assigned')));
    const b = assignedOf(events.b.find((e) => e.startsWith('assigned')));
    expect([...a, ...b].sort()).toEqual([0, 1, 2, 3]);
    expect(a.length * b.length).toBeGreaterThan(0);
    // Each batch comes after the assignment of its partition, and no batch while partitions are revoked.
    for (const list of Object.values(events)) {
      let current: number[] = [];
      for (const e of list) {
        if (e.startsWith('assigned')) current = assignedOf(e);
        else if (e.startsWith('revoked')) current = [];
        else expect(current).toContain(Number(e.slice('batch '.length)));
      }
    }
  });

  it('replays what was published recently, with its partition, of the partitions asked for; right after the topic was created', async () => {
    const prefix = uniqueTopicPrefix('replay');
    const bus = newBus({ partitions: 3 });
    const name = `${prefix}traces`;
    // Created by another client, not waiting for leaders, and read at once: a worker starting
    // right after another one created the topics meets "not the leader for that topic-partition".
    await admin.createTopics({ topics: [{ topic: name, numPartitions: 3 }], waitForLeaders: false });
    const topic = signalTopic(name, 'traces');
    const collect = async (replay: AsyncIterable<{ partition: number; value: TracesData }>) => {
      const out: { partition: number; session: unknown }[] = [];
      for await (const { partition, value } of replay) {
        out.push({ partition, session: value.resourceSpans![0]!.scopeSpans![0]!.spans![0]!.attributes![0]!.value!.stringValue });
      }
      return out;
    };
    expect(await collect(bus.replay(topic, 60_000))).toEqual([]);
    expect(await bus.partitionCount(name)).toBe(3);

    await bus.publish(topic, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map(message));
    const all = await collect(bus.replay(topic, 60_000));
    expect(all.map((m) => m.session).sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    const partition = all[0]!.partition;
    const one = await collect(bus.replay(topic, 60_000, [partition]));
    expect(one).toEqual(all.filter((m) => m.partition === partition));
    expect(await collect(bus.replay(topic, 60_000, []))).toEqual([]);
  });

  it('retries an admin request that meets stale metadata, with a fresh client, and only that', async () => {
    const kafka = new Kafka({ clientId: 'stale-metadata-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const stale = () =>
      Object.assign(new Error('This server is not the leader for that topic-partition'), { type: 'NOT_LEADER_FOR_PARTITION' });
    const clients = new Set<Admin>();
    const topics = await withFreshMetadata(
      kafka,
      'test',
      async (a) => {
        clients.add(a);
        if (clients.size < 3) throw stale();
        return a.listTopics();
      },
      { delayMs: 10 },
    );
    expect(Array.isArray(topics)).toBe(true);
    expect(clients.size).toBe(3);

    let calls = 0;
    const other = withFreshMetadata(kafka, 'test', async () => {
      calls++;
      throw new Error('topic authorization failed');
    });
    await expect(other).rejects.toThrow('topic authorization failed');
    expect(calls).toBe(1);
    await expect(withFreshMetadata(kafka, 'test', async () => Promise.reject(stale()), { attempts: 2, delayMs: 10 })).rejects.toThrow(
      'not the leader',
    );
  });
});
