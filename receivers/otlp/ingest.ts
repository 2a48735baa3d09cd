/**
 * What both transports do with a decoded request: check it, hand it to the next consumer
 * (the bus), wait for the acknowledgement, and count accepted and refused items per
 * transport.
 */
import { DataTooLargeError, type NextConsumers } from '../../core/component.ts';
import { log } from '../../core/log.ts';
import type { MetricsRegistry } from '../../core/metrics.ts';
import type { Signal, SignalData, TracesData } from '../../core/otlp/model.ts';
import { countItems, itemName } from './items.ts';
import type { PartialSuccess } from './responses.ts';
import { removeInvalidSpans } from './span-ids.ts';

export type Transport = 'grpc' | 'http';

/** The next consumer did not acknowledge: the client should retry later. */
export class NextUnavailableError extends Error {
  override name = 'NextUnavailableError';
}

export class Ingest {
  readonly signals: Signal[];

  constructor(
    private readonly receiverId: string,
    private readonly next: NextConsumers,
    private readonly metrics: MetricsRegistry,
  ) {
    this.signals = (['traces', 'logs', 'metrics'] as const).filter((s) => next[s] !== undefined);
  }

  /** Resolves with what to report as partial success, if anything was rejected. */
  async accept<S extends Signal>(signal: S, data: SignalData[S], transport: Transport): Promise<PartialSuccess | undefined> {
    const consume = this.next[signal] as ((data: SignalData[S]) => Promise<void>) | undefined;
    if (!consume) throw new Error(`receiver ${this.receiverId} has no ${signal} pipeline`);
    let partial: PartialSuccess | undefined;
    if (signal === 'traces') {
      const checked = removeInvalidSpans(data as TracesData);
      data = checked.data as SignalData[S];
      partial = checked.partial;
    }
    const labels = { receiver: this.receiverId, transport };
    if (partial) this.count('refused', signal, labels, partial.rejected);
    const items = countItems(signal, data);
    if (items === 0) return partial;
    try {
      await consume(data);
    } catch (err) {
      this.count('refused', signal, labels, items);
      if (err instanceof DataTooLargeError) throw err;
      log('warn', 'otlp receiver: next consumer refused data', { receiver: this.receiverId, signal, items, error: (err as Error).message });
      throw new NextUnavailableError(`the pipeline cannot accept ${signal} right now; retry later`);
    }
    this.count('accepted', signal, labels, items);
    return partial;
  }

  private count(outcome: 'accepted' | 'refused', signal: Signal, labels: Record<string, string>, n: number): void {
    const item = itemName[signal];
    this.metrics
      .counter(`agentotel_receiver_${outcome}_${item}_total`, `${item.replace('_', ' ')} ${outcome} by the receiver, per transport`)
      .inc(labels, n);
  }
}
