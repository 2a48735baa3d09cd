/**
 * The embedded mode's bus: one bounded in-memory queue per (topic, group). Values pass as
 * objects (no encoding); a publisher waits while a queue is full; a batch whose handler
 * throws is delivered again after a backoff, as Kafka would after a restart.
 *
 * Like a Kafka consumer group, a queue outlives its subscription: a group that stops keeps
 * its undelivered messages (and its backpressure) until it subscribes again, and messages
 * published before any group subscribed wait for the first group that does.
 * Stop a topic's publishers before its consumers, or close the bus, to end a pipeline.
 */
import type { Bus, BatchHandler, IncomingMessage, OutgoingMessage, SubscribeOptions, Subscription, Topic } from './bus.ts';
import { BusUnavailableError } from './bus.ts';
import { log } from '../log.ts';

export interface InProcessBusOptions {
  /** Messages a queue holds before publishers wait (default 10,000). */
  capacity?: number;
  /** Messages handed to a handler at once (default 100). */
  maxBatch?: number;
  /** Delay before a failed batch is delivered again (default 500 ms). */
  retryDelayMs?: number;
}

interface Queue {
  messages: IncomingMessage<unknown>[];
  /** Messages taken by a handler that has not resolved yet. */
  inFlight: number;
  subscribed: boolean;
  wakeConsumers: (() => void)[];
  wakeProducers: (() => void)[];
}

interface TopicState {
  nextOffset: number;
  groups: Map<string, Queue>;
  /** Messages published while no group existed: the first group to subscribe takes them. */
  unclaimed: Queue;
}

const newQueue = (): Queue => ({ messages: [], inFlight: 0, subscribed: false, wakeConsumers: [], wakeProducers: [] });

export class InProcessBus implements Bus {
  readonly kind = 'inprocess' as const;
  private readonly capacity: number;
  private readonly maxBatch: number;
  private readonly retryDelayMs: number;
  private readonly topics = new Map<string, TopicState>();
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.maxBatch = options.maxBatch ?? 100;
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  async ensureTopics(): Promise<void> {}

  private topic(name: string): TopicState {
    let state = this.topics.get(name);
    if (!state) this.topics.set(name, (state = { nextOffset: 0, groups: new Map(), unclaimed: newQueue() }));
    return state;
  }

  async publish<T>(topic: Topic<T>, messages: OutgoingMessage<T>[]): Promise<void> {
    if (this.closed) throw new BusUnavailableError('in-process bus is closed');
    if (messages.length === 0) return;
    const state = this.topic(topic.name);
    const first = state.nextOffset;
    state.nextOffset += messages.length;
    const queues = state.groups.size > 0 ? [...state.groups.values()] : [state.unclaimed];
    for (const [i, queue] of queues.entries()) {
      while (queue.messages.length + queue.inFlight >= this.capacity && !this.closed) {
        await new Promise<void>((resolve) => queue.wakeProducers.push(resolve));
      }
      if (this.closed) throw new BusUnavailableError('in-process bus is closed');
      // Each group gets its own copy, so a consumer that modifies a value cannot change
      // what another group sees; a single group (the usual case) shares the publisher's.
      const copy = i > 0;
      queue.messages.push(
        ...messages.map((m, j): IncomingMessage<unknown> => ({
          ok: true,
          topic: topic.name,
          partition: 0,
          offset: String(first + j),
          key: m.key,
          headers: { ...m.headers },
          value: copy ? structuredClone(m.value) : m.value,
        })),
      );
      for (const wake of queue.wakeConsumers.splice(0)) wake();
    }
  }

  async subscribe<T>(topic: Topic<T>, options: SubscribeOptions, handler: BatchHandler<T>): Promise<Subscription> {
    if (this.closed) throw new BusUnavailableError('in-process bus is closed');
    const state = this.topic(topic.name);
    let queue = state.groups.get(options.group);
    if (queue?.subscribed) throw new Error(`group ${options.group} already consumes ${topic.name} in this process`);
    if (!queue) {
      queue = state.groups.size === 0 ? state.unclaimed : newQueue();
      if (queue === state.unclaimed) state.unclaimed = newQueue();
      state.groups.set(options.group, queue);
    }
    const q = queue;
    q.subscribed = true;

    let running = true;
    // One partition, assigned for good: the subscriber prepares once, before subscribe resolves.
    let ready: Promise<void> | undefined;
    const assigned = (): Promise<void> =>
      (ready ??= Promise.resolve(options.onAssigned?.([0])).catch((err: unknown) => {
        ready = undefined;
        throw err;
      }));
    // Each of `concurrency` loops takes the next batch off the queue; a failed batch goes back
    // to the front and is delivered again after the retry delay.
    const loop = async () => {
      while (running) {
        if (q.messages.length === 0) {
          await new Promise<void>((resolve) => q.wakeConsumers.push(resolve));
          continue;
        }
        const batch = q.messages.splice(0, this.maxBatch) as IncomingMessage<T>[];
        q.inFlight += batch.length;
        try {
          await assigned();
          await handler(batch);
          for (const wake of q.wakeProducers.splice(0)) wake();
        } catch (err) {
          q.messages.unshift(...(batch as IncomingMessage<unknown>[]));
          log('warn', `handler for ${topic.name} (group ${options.group}) failed, retrying`, {
            error: (err as Error).message,
            delayMs: this.retryDelayMs,
          });
          if (running) await new Promise((r) => setTimeout(r, this.retryDelayMs));
        } finally {
          q.inFlight -= batch.length;
        }
      }
    };
    await assigned().catch(() => undefined); // retried by the first batch
    const loops = Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, loop));

    const subscription: Subscription = {
      stop: async () => {
        running = false;
        for (const wake of q.wakeConsumers.splice(0)) wake();
        await loops;
        q.subscribed = false;
        this.subscriptions.delete(subscription);
      },
      lag: () => q.messages.length + q.inFlight,
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Fails waiting and later publishes, and stops every subscription (after its batch in flight). */
  async close(): Promise<void> {
    this.closed = true;
    for (const state of this.topics.values()) {
      for (const q of [...state.groups.values(), state.unclaimed]) {
        for (const wake of q.wakeProducers.splice(0)) wake();
      }
    }
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
  }
}
