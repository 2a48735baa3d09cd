/** Trace messages too large for Kafka are split until they fit; a single span that cannot fit is refused. */
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../core/bus/kafka.ts';
import { signalTopic } from '../core/bus/topics.ts';
import { DataTooLargeError } from '../core/component.ts';
import type { Span, TracesData } from '../core/otlp/model.ts';
import { eachSpan } from '../core/otlp/traces.ts';
import { kafkaBrokers, uniqueTopicPrefix } from '../test/helpers/kafka.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { publishTraces } from './publish-traces.ts';

const prefix = uniqueTopicPrefix('publish-traces');
const bus = new KafkaBus({
  brokers: kafkaBrokers(),
  clientId: 'publish-traces',
  partitions: 2,
  replicationFactor: 1,
  maxMessageBytes: 4_000,
});
afterAll(() => bus.close());

const span = (i: number, payload: string): Span => ({
  traceId: 'ef'.repeat(16),
  spanId: (i + 1).toString(16).padStart(16, '0'),
  name: `span ${i}`,
  startTimeUnixNano: '1763769600000000000',
  endTimeUnixNano: '1763769601000000000',
  attributes: [{ key: 'payload', value: { stringValue: payload } }],
});
const traces = (spans: Span[]): TracesData => ({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });

describe('publishTraces on Kafka', () => {
  it('splits a message over the limit into parts that fit, all with the trace id as key, and loses no span', async () => {
    const topic = signalTopic(`${prefix}split`, 'traces');
    await bus.ensureTopics([topic.name]);
    // 100 spans of ~200 bytes: ~20 kB in one message, five times the limit; plus many small messages.
    const big = traces(Array.from({ length: 100 }, (_, i) => span(i, 'x'.repeat(200))));
    const small = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      value: traces([{ ...span(1000 + i, 'y'.repeat(100)), traceId: (i + 1).toString(16).padStart(32, '0') }]),
    }));
    await publishTraces(bus, topic, [{ key: 'ef'.repeat(16), value: big }, ...small]);

    const names = new Set<string>();
    const keys = new Set<string>();
    let messages = 0;
    const sub = await bus.subscribe(topic, { group: `${prefix}check` }, async (batch) => {
      for (const m of batch) {
        if (!m.ok) continue;
        messages++;
        for (const { span } of eachSpan(m.value)) {
          names.add(span.name);
          if (span.traceId === 'ef'.repeat(16)) keys.add(m.key);
        }
      }
    });
    try {
      await waitFor(
        async () => names.size,
        (n) => n === 150,
        30_000,
        'all 150 spans',
      );
    } finally {
      await sub.stop();
    }
    expect(keys).toEqual(new Set(['ef'.repeat(16)]));
    expect(messages).toBeGreaterThan(51); // the big one arrived in several parts
  });

  it('refuses a single span larger than the limit, sending nothing', async () => {
    const topic = signalTopic(`${prefix}refuse`, 'traces');
    await bus.ensureTopics([topic.name]);
    await expect(publishTraces(bus, topic, [{ key: 'k', value: traces([span(0, 'z'.repeat(5_000))]) }])).rejects.toThrow(DataTooLargeError);
    await expect(publishTraces(bus, topic, [{ key: 'k', value: traces([span(0, 'z'.repeat(5_000))]) }])).rejects.toThrow(
      /a span of \d+ bytes \(encoded\) is over the bus limit of 4000 bytes/,
    );
  });
});
