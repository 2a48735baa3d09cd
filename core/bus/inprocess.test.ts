import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from './inprocess.ts';
import { BusUnavailableError, type IncomingMessage, type Topic } from './bus.ts';

interface Item {
  n: number;
  tag?: string;
}

const topic: Topic<Item> = {
  name: 'items',
  codec: {
    encode: (v) => new TextEncoder().encode(JSON.stringify(v)),
    decode: (b) => JSON.parse(new TextDecoder().decode(b)) as Item,
  },
};

const items = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: { n: from + i } }));
const values = (batch: IncomingMessage<Item>[]) => batch.map((m) => (m.ok ? m.value.n : NaN));

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise the test resolves by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

let bus: InProcessBus;
afterEach(async () => {
  await bus?.close();
});

describe('InProcessBus', () => {
  it('delivers every message to every group, each group its own copy', async () => {
    bus = new InProcessBus();
    const seen: Record<string, IncomingMessage<Item>[]> = { a: [], b: [] };
    for (const group of ['a', 'b']) {
      await bus.subscribe(topic, { group }, async (batch) => {
        seen[group]!.push(...batch);
        for (const m of batch) if (m.ok) m.value.tag = group; // a consumer that modifies what it got
      });
    }
    await bus.publish(topic, items(0, 50));
    await waitFor(() => seen.a!.length === 50 && seen.b!.length === 50);

    expect(values(seen.a!)).toEqual(values(seen.b!));
    expect(seen.a!.map((m) => (m.ok ? m.value.tag : undefined))).toEqual(Array(50).fill('a'));
    expect(seen.b!.map((m) => (m.ok ? m.value.tag : undefined))).toEqual(Array(50).fill('b'));
    expect(seen.a![7]).toMatchObject({ ok: true, topic: 'items', partition: 0, offset: '7', key: 'k7', headers: {} });
  });

  it('keeps publish order across publishes, in batches of at most maxBatch', async () => {
    bus = new InProcessBus({ maxBatch: 64 });
    const batches: IncomingMessage<Item>[][] = [];
    await bus.subscribe(topic, { group: 'g' }, async (batch) => {
      batches.push(batch);
    });
    for (let i = 0; i < 1_000; i += 100) await bus.publish(topic, items(i, 100));
    await waitFor(() => batches.flat().length === 1_000);

    const all = batches.flat();
    expect(values(all)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    expect(all.map((m) => Number(m.offset))).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(64);
  });

  it('makes publishers wait while a queue is at capacity', async () => {
    bus = new InProcessBus({ capacity: 10, maxBatch: 10 });
    const release = gate();
    const delivered: number[] = [];
    await bus.subscribe(topic, { group: 'g' }, async (batch) => {
      await release.promise;
      delivered.push(...values(batch));
    });
    await bus.publish(topic, items(0, 10)); // fills the queue; the handler holds the batch
    let published = false;
    const blocked = bus.publish(topic, items(10, 5)).then(() => (published = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(published).toBe(false);

    release.open();
    await blocked;
    await waitFor(() => delivered.length === 15);
    expect(delivered).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });

  it('with concurrency, hands out several batches at once and redelivers only the one that failed', async () => {
    bus = new InProcessBus({ maxBatch: 5, retryDelayMs: 20 });
    const release = gate();
    let inHandler = 0;
    let maxInHandler = 0;
    let failedOnce = false;
    const delivered: number[] = [];
    const sub = await bus.subscribe(topic, { group: 'g', concurrency: 3 }, async (batch) => {
      inHandler++;
      maxInHandler = Math.max(maxInHandler, inHandler);
      try {
        await release.promise;
        if (!failedOnce && values(batch)[0] === 5) {
          failedOnce = true;
          throw new Error('sink busy');
        }
        delivered.push(...values(batch));
      } finally {
        inHandler--;
      }
    });
    await bus.publish(topic, items(0, 15));
    await waitFor(() => inHandler === 3);
    expect(sub.lag()).toBe(15); // all three batches in hand, none acknowledged
    release.open();
    await waitFor(() => delivered.length === 15);
    expect(maxInHandler).toBe(3);
    expect([...delivered].sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    await waitFor(() => sub.lag() === 0);
  });

  it('delivers a batch again, unchanged, when its handler throws', async () => {
    bus = new InProcessBus({ retryDelayMs: 20 });
    const attempts: IncomingMessage<Item>[][] = [];
    await bus.subscribe(topic, { group: 'g' }, async (batch) => {
      attempts.push(batch);
      if (attempts.length < 3) throw new Error('downstream unavailable');
    });
    await bus.publish(topic, items(0, 5));
    await waitFor(() => attempts.length === 3);
    await new Promise((r) => setTimeout(r, 60));

    expect(attempts).toHaveLength(3);
    expect(attempts[1]).toEqual(attempts[0]);
    expect(attempts[2]).toEqual(attempts[0]);
    expect(values(attempts[0]!)).toEqual([0, 1, 2, 3, 4]);
  });

  it('holds messages published before any group subscribed for the first group that does', async () => {
    bus = new InProcessBus({ capacity: 20 });
    await bus.publish(topic, items(0, 20));
    let published = false;
    const blocked = bus.publish(topic, items(20, 5)).then(() => (published = true)); // bounded even without a consumer
    await new Promise((r) => setTimeout(r, 50));
    expect(published).toBe(false);

    const got: number[] = [];
    const late = await bus.subscribe(topic, { group: 'late' }, async (batch) => {
      got.push(...values(batch));
    });
    await blocked;
    await waitFor(() => got.length === 25);
    expect(got).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(late.lag()).toBe(0);
  });

  it('stop waits for the batch in flight; the group keeps what it has not consumed', async () => {
    bus = new InProcessBus({ maxBatch: 5 });
    const release = gate();
    const got: number[] = [];
    let inHandler = false;
    const sub = await bus.subscribe(topic, { group: 'g' }, async (batch) => {
      inHandler = true;
      await release.promise;
      got.push(...values(batch));
    });
    await bus.publish(topic, items(0, 12));
    await waitFor(() => inHandler);
    expect(sub.lag()).toBe(12);

    let stopped = false;
    const stopping = sub.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release.open();
    await stopping;
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(sub.lag()).toBe(7);

    await bus.publish(topic, items(12, 3)); // the stopped group still collects
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toHaveLength(5);

    const again = await bus.subscribe(topic, { group: 'g' }, async (batch) => {
      got.push(...values(batch));
    });
    await waitFor(() => got.length === 15);
    expect(got).toEqual(Array.from({ length: 15 }, (_, i) => i));
    await again.stop();
  });

  it('refuses a second subscription of the same group', async () => {
    bus = new InProcessBus();
    await bus.subscribe(topic, { group: 'g' }, async () => {});
    await expect(bus.subscribe(topic, { group: 'g' }, async () => {})).rejects.toThrow(/group g already consumes items/);
  });

  it('close fails waiting and later publishes and stops the subscriptions', async () => {
    bus = new InProcessBus({ capacity: 2 });
    await bus.publish(topic, items(0, 2)); // no group: the unclaimed queue is full
    const waiting = bus.publish(topic, items(2, 1));
    await bus.close();
    await expect(waiting).rejects.toBeInstanceOf(BusUnavailableError);
    await expect(bus.publish(topic, items(3, 1))).rejects.toBeInstanceOf(BusUnavailableError);
    await expect(bus.subscribe(topic, { group: 'g' }, async () => {})).rejects.toBeInstanceOf(BusUnavailableError);
  });
});
