/**
 * Distributed mode end to end on the real Kafka broker: the receiver, each processor worker
 * and the exporter run as separate OS processes (`agentotel receiver|worker|exporter`). The
 * OTel SDK sends N spans; workers are killed with SIGKILL mid-stream and restarted; exactly
 * N rows land in ClickHouse.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { encodeProtobuf } from '../../core/otlp/codec.ts';
import type { Span } from '../../core/otlp/model.ts';
import { kafkaBrokers, uniqueTopicPrefix } from '../helpers/kafka.ts';
import { createSdkTracer, emitSpans } from '../helpers/otel-sdk.ts';
import { count, defaultConfigFile, embeddedClient, INGEST_TOKEN, pipelineEnv, tempDir } from '../helpers/pipeline.ts';
import { scrapeCounter, startAgentotel, type AgentotelProcess } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

const N = 12_000;
const RETRIED = 100;
const TOTAL = N + RETRIED;

/** One OTLP/HTTP request of RETRIED spans with fixed ids, as a retrying client sends it again. */
async function postRetried(http: string): Promise<void> {
  const spans: Span[] = Array.from({ length: RETRIED }, (_, i) => ({
    traceId: 'ab'.repeat(16),
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: `retried ${i}`,
    startTimeUnixNano: '1763769600000000000',
    endTimeUnixNano: '1763769601000000000',
  }));
  const body = encodeProtobuf('traces', { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });
  const res = await fetch(`http://${http}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${INGEST_TOKEN}` },
    body: new Uint8Array(body),
  });
  expect(res.status).toBe(200);
}
const dataDir = tempDir('distributed');
const running = new Map<string, AgentotelProcess>();
let env: NodeJS.ProcessEnv;

const roles: Record<string, string[]> = {
  receiver: ['receiver'],
  redaction: ['worker', 'redaction'],
  enrichment: ['worker', 'enrichment'],
  dedupe: ['worker', 'dedupe'],
  exporter: ['exporter', 'clickhouse'],
};

async function start(role: string): Promise<AgentotelProcess> {
  const p = startAgentotel(role, [...roles[role]!, '-c', defaultConfigFile], env);
  running.set(role, p);
  await p.ready;
  return p;
}

async function telemetry(role: string): Promise<string> {
  return (await running.get(role)!.ready).endpoints.telemetry!;
}

beforeAll(async () => {
  env = pipelineEnv(dataDir, {
    AGENTOTEL_KAFKA_BROKERS: kafkaBrokers().join(','),
    AGENTOTEL_TOPIC_PREFIX: uniqueTopicPrefix('distributed'),
    // A SIGKILLed worker's partitions move to its replacement after this long.
    AGENTOTEL_KAFKA_SESSION_TIMEOUT: '6s',
  });
  // The receiver creates the topics; the others start in parallel after it.
  await start('receiver');
  await Promise.all(['redaction', 'enrichment', 'dedupe', 'exporter'].map(start));
}, 180_000);

afterAll(async () => {
  await Promise.all([...running.values()].map((p) => p.stop('SIGKILL')));
});

describe('distributed mode', () => {
  it(`stores each of ${TOTAL} spans exactly once although a client retries and workers are SIGKILLed mid-stream`, async () => {
    onTestFailed(() => {
      for (const p of running.values()) console.error(`--- ${p.name} (last output)\n${p.output().slice(-3_000)}`);
    });
    const receiver = (await running.get('receiver')!.ready).endpoints;
    const send = async (protocol: 'grpc' | 'http/protobuf', n: number, prefix: string) => {
      const endpoint = protocol === 'grpc' ? receiver['otlp.grpc']! : receiver['otlp.http']!;
      const sdk = createSdkTracer({ protocol, endpoint, token: INGEST_TOKEN });
      emitSpans(sdk.tracer, n, prefix);
      await sdk.flush();
      await sdk.shutdown();
    };

    await send('grpc', N / 2, 'first');
    // A client that retries: the same 100 spans (same ids) arrive three times.
    for (let i = 0; i < 3; i++) await postRetried(receiver['otlp.http']!);
    // Kill the stateful dedupe worker once it is part-way through, then restart it.
    await waitFor(
      () => telemetry('dedupe').then((a) => scrapeCounter(a, 'agentotel_worker_consumed_spans_total')),
      (n) => n > N / 8,
      60_000,
      'dedupe to start consuming',
    );
    await running.get('dedupe')!.stop('SIGKILL');
    const secondHalf = send('http/protobuf', N / 2, 'second');
    await start('dedupe');
    // The new dedupe worker rebuilt its state from what the killed one had published.
    expect(await scrapeCounter(await telemetry('dedupe'), 'agentotel_dedupe_remembered_spans')).toBeGreaterThan(0);
    // And a stateless one, while the second half is still flowing.
    await running.get('enrichment')!.stop('SIGKILL');
    await start('enrichment');
    await secondHalf;

    const exporterTelemetry = await telemetry('exporter');
    await waitFor(
      () => scrapeCounter(exporterTelemetry, 'agentotel_clickhouse_rows_written_total', 'otel_traces'),
      (n) => n >= TOTAL,
      120_000,
      `${TOTAL} rows written by the exporter`,
    );
    // Give redelivered duplicates, if any got through, the time to arrive; then stop the
    // exporter (the embedded engine belongs to one process) and count.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await running.get('exporter')!.stop('SIGTERM')).toBe(0);
    const client = embeddedClient(dataDir);
    try {
      expect(await count(client, 'SELECT count() AS n FROM agentotel.otel_traces')).toBe(TOTAL);
      expect(await count(client, 'SELECT uniqExact(TraceId, SpanId) AS n FROM agentotel.otel_traces')).toBe(TOTAL);
      expect(await count(client, "SELECT countIf(SpanAttributes['agentotel.redaction.tier'] = '2') AS n FROM agentotel.otel_traces")).toBe(
        TOTAL,
      );
      expect(await count(client, "SELECT count() AS n FROM agentotel.otel_traces WHERE SpanName LIKE 'retried %'")).toBe(RETRIED);
    } finally {
      await client.close();
    }
  }, 300_000);

  it('workers stop cleanly on SIGTERM', async () => {
    for (const role of ['redaction', 'enrichment', 'dedupe', 'receiver']) {
      expect(await running.get(role)!.stop('SIGTERM')).toBe(0);
    }
  }, 60_000);
});
