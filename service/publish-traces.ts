/**
 * Publishing trace messages whatever their size: a message the bus finds too large is split
 * into halves (same key, so the same partition) until every part fits. A single span that does
 * not fit cannot be passed on: DataTooLargeError.
 */
import { MessageTooLargeError, type Bus, type OutgoingMessage, type SignalTopic } from '../core/bus/bus.ts';
import { DataTooLargeError } from '../core/component.ts';
import type { TracesData } from '../core/otlp/model.ts';
import { countSpans, halveSpans } from '../core/otlp/traces.ts';

export async function publishTraces(bus: Bus, topic: SignalTopic<'traces'>, messages: OutgoingMessage<TracesData>[]): Promise<void> {
  let pending = messages;
  for (;;) {
    try {
      return await bus.publish(topic, pending);
    } catch (err) {
      if (!(err instanceof MessageTooLargeError)) throw err;
      const m = pending[err.index]!;
      if (countSpans(m.value) <= 1) {
        throw new DataTooLargeError(`a span of ${err.bytes} bytes (encoded) is over the bus limit of ${err.limit} bytes`);
      }
      const [first, second] = halveSpans(m.value);
      pending = [...pending.slice(0, err.index), { ...m, value: first }, { ...m, value: second }, ...pending.slice(err.index + 1)];
    }
  }
}
