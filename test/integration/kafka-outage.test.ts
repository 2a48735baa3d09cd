/**
 * A Kafka outage seen from an agent: while the broker is stalled the receiver answers a
 * retryable 503 within its deadline (before the OTLP client's own 10 s timeout); once the
 * broker is back the retry is accepted, and everything acknowledged is on the topic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../../core/bus/kafka.ts';
import { signalTopic } from '../../core/bus/topics.ts';
import { encodeProtobuf } from '../../core/otlp/codec.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import type { Span } from '../../core/otlp/model.ts';
import { startPrivateBroker, uniqueTopicPrefix } from '../helpers/kafka.ts';
import { defaultConfigFile, INGEST_TOKEN, pipelineEnv, tempDir } from '../helpers/pipeline.ts';
import { startAgentotel, type AgentotelProcess } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

let broker: Awaited<ReturnType<typeof startPrivateBroker>>;
let receiver: AgentotelProcess;
let http: string;
const prefix = uniqueTopicPrefix('kafka-outage');

function request(batch: number): Uint8Array {
  const spans: Span[] = Array.from({ length: 10 }, (_, i) => ({
    traceId: batch.toString(16).padStart(32, '0'),
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: `batch ${batch} span ${i}`,
    startTimeUnixNano: '1763769600000000000',
    endTimeUnixNano: '1763769601000000000',
  }));
  return encodeProtobuf('traces', { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });
}

async function post(batch: number): Promise<Response> {
  return fetch(`http://${http}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${INGEST_TOKEN}` },
    body: new Uint8Array(request(batch)),
  });
}

beforeAll(async () => {
  broker = await startPrivateBroker();
  const env = pipelineEnv(tempDir('kafka-outage'), { AGENTOTEL_KAFKA_BROKERS: broker.address, AGENTOTEL_TOPIC_PREFIX: prefix });
  receiver = startAgentotel('receiver', ['receiver', '-c', defaultConfigFile], env);
  http = (await receiver.ready).endpoints['otlp.http']!;
}, 120_000);

afterAll(async () => {
  await receiver?.stop('SIGKILL');
  await broker?.stop();
});

describe('Kafka outage at the receiver', () => {
  it('answers 503 with Retry-After while the broker is stalled, and accepts the retry once it is back', async () => {
    expect((await post(1)).status).toBe(200);

    broker.pause();
    const started = Date.now();
    const refused = await post(2);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(Date.now() - started).toBeLessThan(9_000);

    broker.resume();
    await waitFor(
      async () => (await post(2)).status,
      (status) => status === 200,
      60_000,
      'the retry to be accepted',
    );

    // Everything acknowledged is on the received topic.
    const bus = new KafkaBus({ brokers: [broker.address], clientId: 'outage-check', partitions: 1, replicationFactor: 1 });
    const seen = new Set<string>();
    const sub = await bus.subscribe(signalTopic(`${prefix}traces.received`, 'traces'), { group: `${prefix}check` }, async (batch) => {
      for (const m of batch) if (m.ok) for (const { span } of eachSpan(m.value)) seen.add(span.name);
    });
    try {
      await waitFor(
        async () => seen.size,
        () => seen.has('batch 1 span 9') && seen.has('batch 2 span 9'),
        30_000,
        'both batches on the topic',
      );
    } finally {
      await sub.stop();
      await bus.close();
    }
  }, 120_000);
});
