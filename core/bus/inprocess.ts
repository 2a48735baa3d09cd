/**
 * The embedded mode's bus: one bounded in-memory queue per (topic, group). Values pass as
 * objects (no encoding), a publisher waits while a queue is full, and a batch whose
 * handler throws is delivered again after a backoff, as Kafka would after a restart.
 */
import type { Bus, BatchHandler, IncomingMessage, OutgoingMessage, SubscribeOptions, Subscription, Topic } from './bus.ts';
import { BusUnavailableError } from './bus.ts';

export interface InProcessBusOptions {
  /** Messages a queue holds before publishers wait (default 10,000). */
  capacity?: number;
  /** Messages handed to a handler at once (default 500). */
  maxBatch?: number;
  /** Delay before a failed batch is delivered again (default 500 ms). */
  retryDelayMs?: number;
}

interface Queue {
  messages: IncomingMessage<unknown>[];
  wakeConsumer?: () => void;
  wakeProducers: (() => void)[];
}

export class InProcessBus implements Bus {
  readonly kind = 'inprocess' as const;
  private readonly capacity: number;
  private readonly maxBatch: number;
  private readonly retryDelayMs: number;
  /** topic -> group -> queue; messages published before any group subscribes wait in `pending`. */
  private readonly queues = new Map<string, Map<string, Queue>>();
  private readonly pending = new Map<string, IncomingMessage<unknown>[]>();
  private readonly offsets = new Map<string, number>();
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  async ensureTopics(): Promise<void> {}

  async publish<T>(topic: Topic<T>, messages: OutgoingMessage<T>[]): Promise<void> {
    if (this.closed) throw new BusUnavailableError('in-process bus is closed');
    const groups = this.queues.get(topic.name);
    let offset = this.offsets.get(topic.name) ?? 0;
    const incoming = messages.map((m): IncomingMessage<unknown> => ({
      ok: true,
      topic: topic.name,
      partition: 0,
      offset: String(offset++),
      key: m.key,
      headers: m.headers ?? {},
      value: m.value,
    }));
    this.offsets.set(topic.name, offset);
    if (!groups || groups.size === 0) {
      const list = this.pending.get(topic.name) ?? [];
      list.push(...incoming);
      this.pending.set(topic.name, list);
      return;
    }
    for (const queue of groups.values()) {
      while (queue.messages.length >= this.capacity && !this.closed) {
        await new Promise<void>((resolve) => queue.wakeProducers.push(resolve));
      }
      queue.messages.push(...incoming);
      queue.wakeConsumer?.();
    }
  }

  async subscribe<T>(topic: Topic<T>, options: SubscribeOptions, handler: BatchHandler<T>): Promise<Subscription> {
    let groups = this.queues.get(topic.name);
    if (!groups) this.queues.set(topic.name, (groups = new Map()));
    if (groups.has(options.group)) throw new Error(`group ${options.group} already consumes ${topic.name} in this process`);
    const queue: Queue = { messages: this.pending.get(topic.name) ?? [], wakeProducers: [] };
    this.pending.delete(topic.name);
    groups.set(options.group, queue);

    let running = true;
    const loop = (async () => {
      while (running) {
        if (queue.messages.length === 0) {
          await new Promise<void>((resolve) => (queue.wakeConsumer = resolve));
          queue.wakeConsumer = undefined;
          continue;
        }
        const batch = queue.messages.slice(0, this.maxBatch) as IncomingMessage<T>[];
        try {
          await handler(batch);
          queue.messages.splice(0, batch.length);
          for (const wake of queue.wakeProducers.splice(0)) wake();
        } catch {
          if (running) await new Promise((r) => setTimeout(r, this.retryDelayMs));
        }
      }
    })();

    return {
      stop: async () => {
        running = false;
        queue.wakeConsumer?.();
        await loop;
        groups!.delete(options.group);
        for (const wake of queue.wakeProducers.splice(0)) wake();
      },
      lag: () => queue.messages.length,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const groups of this.queues.values()) {
      for (const q of groups.values()) {
        q.wakeConsumer?.();
        for (const wake of q.wakeProducers.splice(0)) wake();
      }
    }
  }
}
