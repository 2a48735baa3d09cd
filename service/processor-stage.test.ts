/**
 * A processor stage on both buses: results go to the output topic, poison messages (bytes
 * that do not decode, spans the processor rejects) to the dead letters with the reason and
 * where they came from, and the stage keeps going.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../core/bus/bus.ts';
import { InProcessBus } from '../core/bus/inprocess.ts';
import { KafkaBus } from '../core/bus/kafka.ts';
import { deadLetterTopic, rawCodec, signalTopic } from '../core/bus/topics.ts';
import { Fields } from '../core/config/fields.ts';
import { MetricsRegistry } from '../core/metrics.ts';
import type { Span, TracesData } from '../core/otlp/model.ts';
import { eachSpan } from '../core/otlp/traces.ts';
import { dedupeProcessorFactory } from '../processors/dedupe/index.ts';
import { kafkaBrokers, uniqueTopicPrefix } from '../test/helpers/kafka.ts';
import { tempDir } from '../test/helpers/pipeline.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { busDeadLetters, fileDeadLetters, type DeadLetterSink } from './deadletters.ts';
import { runProcessorStage, type RunningStage } from './processor-stage.ts';
import type { PipelineConfig } from './config.ts';
import type { ProcessorStage } from './topology.ts';

const span = (spanId: string, name: string): Span => ({
  traceId: 'cd'.repeat(16),
  spanId,
  name,
  startTimeUnixNano: '1763769600000000000',
  endTimeUnixNano: '1763769601000000000',
});
const traces = (...spans: Span[]): TracesData => ({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });

function dedupeStage(prefix: string): ProcessorStage {
  const config = dedupeProcessorFactory.parseConfig(new Fields({}, 'processors.dedupe'));
  const pipeline: PipelineConfig = {
    id: 'traces',
    signal: 'traces',
    receivers: [],
    processors: [{ id: 'dedupe', factory: dedupeProcessorFactory, config }],
    exporters: [],
  };
  return {
    pipeline,
    index: 0,
    count: 1,
    input: signalTopic(`${prefix}traces.received`, 'traces'),
    output: signalTopic(`${prefix}traces.dedupe`, 'traces'),
    group: `${prefix}traces.dedupe`,
  };
}

async function startStage(bus: Bus, stage: ProcessorStage, deadLetters: DeadLetterSink, metrics: MetricsRegistry): Promise<RunningStage> {
  const c = stage.pipeline.processors[0]!;
  const processor = c.factory.create(c.config, { id: c.id, dataDir: '', configDir: '', metrics, recentOutput: async function* () {} });
  return runProcessorStage(bus, stage, processor, deadLetters, metrics);
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('processor stage on Kafka', () => {
  it('publishes results, sends undecodable and rejected messages to the dead-letter topic with headers, and goes on', async () => {
    const prefix = uniqueTopicPrefix('processor-stage');
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'stage-test', partitions: 2, replicationFactor: 1 });
    cleanup.push(() => bus.close());
    const stage = dedupeStage(prefix);
    const dlq = deadLetterTopic(prefix);
    await bus.ensureTopics([stage.input.name, stage.output.name, dlq.name]);

    const raw = { name: stage.input.name, codec: rawCodec };
    await bus.publish(raw, [{ key: 'garbage', value: Buffer.from('this is not protobuf') }]);
    await bus.publish(stage.input, [
      { key: 'cd'.repeat(16), value: traces(span('0000000000000000', 'no identity')) },
      { key: 'cd'.repeat(16), value: traces(span('0000000000000001', 'good'), span('0000000000000001', 'good again')) },
    ]);

    const metrics = new MetricsRegistry();
    const running = await startStage(bus, stage, busDeadLetters(bus, prefix), metrics);
    cleanup.push(() => running.stop());

    const out: string[] = [];
    const letters: Record<string, string>[] = [];
    const outSub = await bus.subscribe(stage.output, { group: `${prefix}out` }, async (b) => {
      for (const m of b) if (m.ok) for (const { span } of eachSpan(m.value)) out.push(span.name);
    });
    const dlqSub = await bus.subscribe(dlq, { group: `${prefix}dlq` }, async (b) => {
      for (const m of b) letters.push(m.headers);
    });
    cleanup.push(
      () => outSub.stop(),
      () => dlqSub.stop(),
    );

    await waitFor(
      async () => [out.length, letters.length],
      ([o, l]) => o === 1 && l === 2,
      30_000,
      'one result and two dead letters',
    );
    expect(out).toEqual(['good']);
    const byKey = letters.sort((a, b) => a['agentotel.error']!.localeCompare(b['agentotel.error']!));
    expect(byKey[0]).toMatchObject({ 'agentotel.stage': 'dedupe', 'agentotel.source.topic': stage.input.name });
    expect(byKey.map((h) => h['agentotel.error'])).toEqual([
      expect.stringMatching(/^invalid OTLP protobuf traces request/),
      expect.stringMatching(/^span "no identity" has an invalid identity/),
    ]);
    for (const h of letters) expect(h['agentotel.source.offset']).toMatch(/^\d+$/);
    expect(metrics.counter('agentotel_worker_dead_letters_total', '').get({ stage: 'dedupe' })).toBe(2);
  });

  it('dead-letters a result too large for the bus and publishes the rest of the batch', async () => {
    const prefix = uniqueTopicPrefix('processor-stage-large');
    const bus = new KafkaBus({
      brokers: kafkaBrokers(),
      clientId: 'stage-test',
      partitions: 1,
      replicationFactor: 1,
      maxMessageBytes: 2_000,
    });
    cleanup.push(() => bus.close());
    const stage = dedupeStage(prefix);
    const dlq = deadLetterTopic(prefix);
    await bus.ensureTopics([stage.input.name, stage.output.name, dlq.name]);
    const huge = { ...span('0000000000000002', 'huge'), attributes: [{ key: 'blob', value: { stringValue: 'z'.repeat(3_000) } }] };
    // Published under a bigger limit, as a receiver with a larger max_message_bytes would.
    const roomy = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'stage-test-in', partitions: 1, replicationFactor: 1 });
    cleanup.push(() => roomy.close());
    await roomy.publish(stage.input, [
      { key: 'a', value: traces(huge) },
      { key: 'b', value: traces(span('0000000000000003', 'fits')) },
    ]);
    const metrics = new MetricsRegistry();
    const running = await startStage(bus, stage, busDeadLetters(roomy, prefix), metrics);
    cleanup.push(() => running.stop());
    const out: string[] = [];
    const errors: string[] = [];
    const outSub = await bus.subscribe(stage.output, { group: `${prefix}out` }, async (b) => {
      for (const m of b) if (m.ok) for (const { span } of eachSpan(m.value)) out.push(span.name);
    });
    const dlqSub = await roomy.subscribe(dlq, { group: `${prefix}dlq` }, async (b) => {
      for (const m of b) errors.push(m.headers['agentotel.error']!);
    });
    cleanup.push(
      () => outSub.stop(),
      () => dlqSub.stop(),
    );
    await waitFor(
      async () => [out.length, errors.length],
      ([o, e]) => o === 1 && e === 1,
      30_000,
      'one result and one dead letter',
    );
    expect(out).toEqual(['fits']);
    expect(errors[0]).toMatch(/^a span of \d+ bytes \(encoded\) is over the bus limit of 2000 bytes/);
  });
});

describe('processor stage in-process', () => {
  it('writes dead letters to a JSON-lines file in the data directory', async () => {
    const dir = tempDir('stage-dlq');
    const bus = new InProcessBus();
    cleanup.push(() => bus.close());
    const stage = dedupeStage('agentotel.');
    const running = await startStage(bus, stage, fileDeadLetters(dir), new MetricsRegistry());
    cleanup.push(() => running.stop());
    await bus.publish(stage.input, [{ key: 'k', value: traces(span('0000000000000000', 'no identity')) }]);
    const folder = path.join(dir, 'deadletter');
    await waitFor(
      async () => readdirSync(folder).length,
      (n) => n === 1,
      10_000,
      'a dead-letter file',
    );
    const [line] = readFileSync(path.join(folder, readdirSync(folder)[0]!), 'utf8')
      .trim()
      .split('\n');
    const letter = JSON.parse(line!) as { headers: Record<string, string>; value_base64: string };
    expect(letter.headers['agentotel.error']).toMatch(/invalid identity/);
    expect(letter.headers['agentotel.stage']).toBe('dedupe');
    expect(Buffer.from(letter.value_base64, 'base64').length).toBeGreaterThan(0);
  });
});
