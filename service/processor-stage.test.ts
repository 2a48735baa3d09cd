/**
 * A processor stage on both buses: results go to the output topic, poison messages (bytes
 * that do not decode, spans the processor rejects) to the dead letters with the reason and
 * where they came from, and the stage keeps going.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentAttr, capturesToTraces, type CapturePath, type SpanView } from '../core/agent/session-spans.ts';
import type { Bus, Topic } from '../core/bus/bus.ts';
import { InProcessBus } from '../core/bus/inprocess.ts';
import { KafkaBus } from '../core/bus/kafka.ts';
import { deadLetterTopic, rawCodec, signalTopic } from '../core/bus/topics.ts';
import { Fields } from '../core/config/fields.ts';
import { MetricsRegistry } from '../core/metrics.ts';
import { getString } from '../core/otlp/attributes.ts';
import type { Processor, ProcessorFactory } from '../core/component.ts';
import type { LogsData, Span, TracesData } from '../core/otlp/model.ts';
import { eachSpan } from '../core/otlp/traces.ts';
import { dedupeProcessorFactory } from '../processors/dedupe/index.ts';
import { kafkaBrokers, uniqueTopicPrefix } from '../test/helpers/kafka.ts';
import { tempDir } from '../test/helpers/pipeline.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { busDeadLetters, fileDeadLetters, type DeadLetterSink } from './deadletters.ts';
import { runProcessorStage, type RunningStage, type StageOptions } from './processor-stage.ts';
import type { PipelineConfig } from './config.ts';
import { processorStage, type ProcessorStage } from './topology.ts';

const span = (spanId: string, name: string): Span => ({
  traceId: 'cd'.repeat(16),
  spanId,
  name,
  startTimeUnixNano: '1763769600000000000',
  endTimeUnixNano: '1763769601000000000',
});
const traces = (...spans: Span[]): TracesData => ({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });

function dedupeStage(prefix: string, raw: Record<string, unknown> = {}): ProcessorStage {
  const config = dedupeProcessorFactory.parseConfig(new Fields(raw, 'processors.dedupe'));
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

async function startStage(
  bus: Bus,
  stage: ProcessorStage,
  deadLetters: DeadLetterSink,
  metrics: MetricsRegistry,
  options: StageOptions = {},
): Promise<RunningStage> {
  const c = stage.pipeline.processors[0]!;
  const recentOutput = (o?: { partitions?: number[]; sinceMs?: number }) =>
    bus.replay?.(stage.output, o?.sinceMs ?? 3_600_000, o?.partitions) ?? (async function* () {})();
  const processor = c.factory.create(c.config, { id: c.id, dataDir: '', configDir: '', metrics, recentOutput });
  return runProcessorStage(bus, stage, processor, deadLetters, metrics, options);
}

/** Views of tool call `key` of one Claude Code session, as capture path `path` sends them. */
const views = (path: CapturePath, key: string, attributes: Record<string, string> = {}, sessionId = 'stage-session'): TracesData => {
  const view: SpanView = {
    ref: { kind: 'tool_call', key },
    name: 'execute_tool Bash',
    startNs: 1n,
    endNs: 2n,
    attributes: { tool: key, ...attributes },
  };
  return capturesToTraces([{ agent: 'claude-code', sessionId, path, views: [view] }]);
};
const viewMessage = (path: CapturePath, key: string, attributes: Record<string, string> = {}) => ({
  key: 'k',
  value: views(path, key, attributes),
});

/** What a stage wrote, span by span: "name capture-path vN" (or the span name alone for a foreign span). */
async function collectOutput(bus: Bus, stage: ProcessorStage, group: string): Promise<{ written: string[]; stop(): Promise<void> }> {
  const written: string[] = [];
  const sub = await bus.subscribe(stage.output, { group }, async (b) => {
    for (const m of b) {
      if (!m.ok) continue;
      for (const { span } of eachSpan(m.value)) {
        const path = getString(span.attributes, AgentAttr.capturePath);
        const tool = getString(span.attributes, 'tool');
        written.push(path ? `${tool} ${path} v${getString(span.attributes, AgentAttr.version)}` : span.name);
      }
    }
  });
  return { written, stop: () => sub.stop() };
}

const heldSpans = (metrics: MetricsRegistry) =>
  Number(/agentotel_dedupe_held_spans\{processor="dedupe"\} (\d+)/.exec(metrics.render())?.[1]);

let cleanup: (() => Promise<void>)[] = [];

/** Reads a stage's output and dead letters until one result and two letters arrived. */
async function oneResultAndTwoDeadLetters<T>(
  bus: Bus,
  output: Topic<T>,
  dlq: Topic<Uint8Array>,
  prefix: string,
  items: (value: T) => string[],
): Promise<{ out: string[]; letters: Record<string, string>[] }> {
  const out: string[] = [];
  const letters: Record<string, string>[] = [];
  const outSub = await bus.subscribe(output, { group: `${prefix}out` }, async (b) => {
    for (const m of b) if (m.ok) out.push(...items(m.value));
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
  return { out, letters };
}
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

    const { out, letters } = await oneResultAndTwoDeadLetters(bus, stage.output, dlq, prefix, (v) =>
      [...eachSpan(v)].map(({ span }) => span.name),
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

  it('runs a logs stage: records through processLogs, undecodable and rejected messages to the dead letters, nothing held', async () => {
    const prefix = uniqueTopicPrefix('processor-stage-logs');
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'stage-test', partitions: 2, replicationFactor: 1 });
    cleanup.push(() => bus.close());
    const factory = { kind: 'processor', type: 'tagger', signals: ['traces', 'logs'] } as unknown as ProcessorFactory;
    const pipeline: PipelineConfig = {
      id: 'logs',
      signal: 'logs',
      receivers: [],
      processors: [{ id: 'tagger', factory, config: {} }],
      exporters: [],
    };
    const stage = processorStage(prefix, pipeline, 0) as ProcessorStage<'logs'>;
    expect([stage.input.name, stage.output.name, stage.group]).toEqual([
      `${prefix}logs.received`,
      `${prefix}logs.tagger`,
      `${prefix}logs.tagger`,
    ]);
    const dlq = deadLetterTopic(prefix);
    await bus.ensureTopics([stage.input.name, stage.output.name, dlq.name]);
    const logs = (body: string): LogsData => ({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: body } }] }] }] });
    const bodyOf = (d: LogsData) => d.resourceLogs![0]!.scopeLogs![0]!.logRecords![0]!.body!.stringValue!;
    const tagger: Processor = {
      processTraces: () => {
        throw new Error('processTraces called on a logs stage');
      },
      processLogs: (d) => {
        if (bodyOf(d) === 'bad') throw new Error('record "bad" refused');
        return logs(`${bodyOf(d)} tagged`);
      },
      // A logs stage never holds: these would fail the test if called.
      flush: () => {
        throw new Error('flush called on a logs stage');
      },
      assign: async () => {
        throw new Error('assign called on a logs stage');
      },
    };
    await bus.publish({ name: stage.input.name, codec: rawCodec }, [{ key: 'garbage', value: Buffer.from('this is not protobuf') }]);
    await bus.publish(stage.input, [
      { key: 'r', value: logs('bad') },
      { key: 'r', value: logs('good') },
    ]);
    const metrics = new MetricsRegistry();
    const running = await runProcessorStage(bus, stage, tagger, busDeadLetters(bus, prefix), metrics, { flushIntervalMs: 10 });
    cleanup.push(() => running.stop());

    const { out, letters } = await oneResultAndTwoDeadLetters(bus, stage.output, dlq, prefix, (v) => [bodyOf(v)]);
    expect(out).toEqual(['good tagged']);
    const sorted = letters.sort((a, b) => a['agentotel.error']!.localeCompare(b['agentotel.error']!));
    expect(sorted.map((h) => [h['agentotel.error'], h['agentotel.stage'], h['agentotel.source.topic']])).toEqual([
      [expect.stringMatching(/^invalid OTLP protobuf logs request/), 'tagger', stage.input.name],
      ['record "bad" refused', 'tagger', stage.input.name],
    ]);
    const labels = { stage: 'tagger', signal: 'logs' };
    expect(metrics.counter('agentotel_worker_dead_letters_total', '').get(labels)).toBe(2);
    expect(metrics.counter('agentotel_worker_consumed_log_records_total', '').get(labels)).toBe(2);
    expect(metrics.counter('agentotel_worker_produced_log_records_total', '').get(labels)).toBe(1);
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

  it('dead-letters the input of a result its processor made that does not encode, and publishes the rest of the batch', async () => {
    const prefix = uniqueTopicPrefix('processor-stage-unencodable');
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'stage-test', partitions: 1, replicationFactor: 1 });
    cleanup.push(() => bus.close());
    const stage = dedupeStage(prefix);
    const dlq = deadLetterTopic(prefix);
    await bus.ensureTopics([stage.input.name, stage.output.name, dlq.name]);
    await bus.publish(stage.input, [
      { key: 'a', value: traces(span('0000000000000001', 'before')) },
      { key: 'b', value: traces(span('0000000000000002', 'breaks its processor')) },
      { key: 'c', value: traces(span('0000000000000003', 'after')) },
    ]);
    // A processor with a bug: for one message it returns a span list with a hole.
    const buggy: Processor = {
      processTraces: (data) =>
        [...eachSpan(data)].some((c) => c.span.name.startsWith('breaks'))
          ? { resourceSpans: [{ scopeSpans: [{ spans: [undefined as unknown as Span] }] }] }
          : data,
    };
    const running = await runProcessorStage(bus, stage, buggy, busDeadLetters(bus, prefix), new MetricsRegistry());
    cleanup.push(() => running.stop());
    const out: string[] = [];
    const letters: { key: string; spans: string[] }[] = [];
    const outSub = await bus.subscribe(stage.output, { group: `${prefix}out` }, async (b) => {
      for (const m of b) if (m.ok) for (const { span } of eachSpan(m.value)) out.push(span.name);
    });
    const letterSub = await bus.subscribe(signalTopic(dlq.name, 'traces'), { group: `${prefix}dlq` }, async (b) => {
      for (const m of b) if (m.ok) letters.push({ key: m.key, spans: [...eachSpan(m.value)].map((c) => c.span.name) });
    });
    cleanup.push(
      () => outSub.stop(),
      () => letterSub.stop(),
    );
    await waitFor(
      async () => [out.length, letters.length],
      ([o, l]) => o === 2 && l === 1,
      30_000,
      'two results and one dead letter',
    );
    expect(out).toEqual(['before', 'after']);
    expect(letters).toEqual([{ key: 'b', spans: ['breaks its processor'] }]); // the input, to replay once the processor is fixed
  });

  it('commits no input offset whose spans are held, and commits them once the stage stopped and wrote them', async () => {
    const prefix = uniqueTopicPrefix('processor-stage-hold');
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'stage-test', partitions: 1, replicationFactor: 1 });
    cleanup.push(() => bus.close());
    const stage = dedupeStage(prefix, { merge_window: '10m' });
    await bus.ensureTopics([stage.input.name, stage.output.name]);
    const admin = new Kafka({ clientId: 'stage-test-admin', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    const committed = async () => {
      const [offsets] = await admin.fetchOffsets({ groupId: stage.group, topics: [stage.input.name] });
      return offsets!.partitions[0]!.offset;
    };

    const metrics = new MetricsRegistry();
    const running = await startStage(bus, stage, busDeadLetters(bus, prefix), metrics);
    let stopped = false;
    cleanup.push(() => (stopped ? Promise.resolve() : running.stop()));
    const out = await collectOutput(bus, stage, `${prefix}out`);
    cleanup.push(() => out.stop());

    await bus.publish(stage.input, [
      viewMessage('hooks', 'a'),
      viewMessage('transcript', 'a', { result: 'ok' }),
      viewMessage('hooks', 'b'),
    ]);
    await waitFor(
      async () => heldSpans(metrics),
      (n) => n === 2,
      30_000,
      'two spans held',
    );
    await bus.publish(stage.input, [{ key: 'k', value: traces(span('00000000000000f1', 'foreign')) }]);
    await waitFor(
      async () => out.written,
      (w) => w.length === 1,
      30_000,
      'the foreign span written at once',
    );
    await new Promise((r) => setTimeout(r, 1_500)); // a release commit would have happened by now
    expect(await committed()).toBe('0'); // offsets 0..3 handled, but 0 holds a span

    await running.stop();
    stopped = true;
    await waitFor(
      async () => out.written.length,
      (n) => n === 3,
      30_000,
      'the held spans written at stop',
    );
    expect(out.written.sort()).toEqual(['a hooks,transcript v1', 'b hooks v1', 'foreign']);
    expect(await committed()).toBe('4');
  });

  it('after a crash while spans are held, redelivers them, and recognises what was written before: every span once', async () => {
    const prefix = uniqueTopicPrefix('processor-stage-crash');
    const newBus = () => new KafkaBus({ brokers: kafkaBrokers(), clientId: 'stage-test', partitions: 1, replicationFactor: 1 });
    const crashing = newBus();
    const stage = dedupeStage(prefix, { merge_window: '1s' });
    await crashing.ensureTopics([stage.input.name, stage.output.name]);
    const metrics = new MetricsRegistry();
    // Its timer never fires: held spans are written only after a batch (and this stage is never stopped).
    await startStage(crashing, stage, busDeadLetters(crashing, prefix), metrics, { flushIntervalMs: 3_600_000 });
    const reader = newBus();
    cleanup.push(() => reader.close());
    const out = await collectOutput(reader, stage, `${prefix}out`);
    cleanup.push(() => out.stop());

    await crashing.publish(stage.input, [viewMessage('hooks', 'x'), viewMessage('otel', 'x', { tokens: '5' })]);
    await new Promise((r) => setTimeout(r, 1_100));
    await crashing.publish(stage.input, [{ key: 'k', value: traces(span('00000000000000f1', 'foreign')) }]);
    await waitFor(
      async () => out.written.length,
      (n) => n === 2,
      30_000,
      'x written after the next batch',
    );
    // y is held; the repeat of x after it stays uncommitted with it.
    await crashing.publish(stage.input, [viewMessage('hooks', 'y'), viewMessage('hooks', 'x'), viewMessage('otel', 'x', { tokens: '5' })]);
    await waitFor(
      async () => heldSpans(metrics),
      (n) => n === 1,
      30_000,
      'y held',
    );
    await crashing.close(); // the worker dies: its consumer leaves without committing what it holds

    const bus = newBus();
    cleanup.push(() => bus.close());
    const restarted = await startStage(bus, stage, busDeadLetters(bus, prefix), new MetricsRegistry(), { flushIntervalMs: 100 });
    cleanup.push(() => restarted.stop());
    await waitFor(
      async () => out.written.length,
      (n) => n >= 3,
      30_000,
      'y written after the restart',
    );
    await new Promise((r) => setTimeout(r, 2_000)); // anything written twice would have arrived by now
    expect(out.written.sort()).toEqual(['foreign', 'x hooks,otel v1', 'y hooks v1']);
  });
});

describe('processor stage on Kafka, two workers of one group', () => {
  it('a rebalance while spans are held: the worker that loses their partitions writes none of them, the one that gets them writes each once', async () => {
    const prefix = uniqueTopicPrefix('processor-stage-rebalance');
    const newBus = () =>
      new KafkaBus({ brokers: kafkaBrokers(), clientId: 'stage-test', partitions: 4, replicationFactor: 1, sessionTimeoutMs: 3_000 });
    const stage = dedupeStage(prefix, { merge_window: '6s' });
    const first = newBus();
    cleanup.push(() => first.close());
    await first.ensureTopics([stage.input.name, stage.output.name]);
    const out = await collectOutput(first, stage, `${prefix}out`);
    cleanup.push(() => out.stop());
    const metrics = new MetricsRegistry();
    const a = await startStage(first, stage, busDeadLetters(first, prefix), metrics);
    cleanup.push(() => a.stop());

    // One tool call in each of 12 sessions: 12 traces over the 4 partitions.
    const sessions = Array.from({ length: 12 }, (_, i) => `session-${i}`);
    const publish = (path: CapturePath, attributes: Record<string, string>) =>
      first.publish(
        stage.input,
        sessions.map((s) => {
          const value = views(path, s, attributes, s);
          return { key: value.resourceSpans![0]!.scopeSpans![0]!.spans![0]!.traceId, value };
        }),
      );
    await publish('hooks', { exit: '0' });
    await waitFor(
      async () => heldSpans(metrics),
      (n) => n === sessions.length,
      30_000,
      'the first worker holding every span',
    );
    // A second worker joins: the first gives up every partition (and what it holds of them),
    // then each is delivered its partitions' views again from their last commit.
    const second = newBus();
    cleanup.push(() => second.close());
    const b = await startStage(second, stage, busDeadLetters(second, prefix), new MetricsRegistry());
    cleanup.push(() => b.stop());
    await publish('transcript', { result: 'ok' });

    await waitFor(
      async () => out.written.length,
      (n) => n >= sessions.length,
      60_000,
      'every span written',
    );
    await new Promise((r) => setTimeout(r, 8_000)); // a merge window more: a second write would have arrived
    expect(out.written.sort()).toEqual(sessions.map((s) => `${s} hooks,transcript v1`).sort());
  });
});

describe('processor stage in-process', () => {
  it('writes a held span once its merge window ended, with the views that arrived meanwhile, without waiting for another batch', async () => {
    const bus = new InProcessBus();
    cleanup.push(() => bus.close());
    const stage = dedupeStage('agentotel.', { merge_window: '300ms' });
    const metrics = new MetricsRegistry();
    const running = await startStage(bus, stage, fileDeadLetters(tempDir('stage-merge')), metrics, { flushIntervalMs: 50 });
    cleanup.push(() => running.stop());
    const out = await collectOutput(bus, stage, 'out');
    await bus.publish(stage.input, [viewMessage('hooks', 'a')]);
    await bus.publish(stage.input, [viewMessage('transcript', 'a', { result: 'ok' })]);
    await waitFor(
      async () => out.written,
      (w) => w.length === 1,
      10_000,
      'the merged span',
    );
    expect(out.written).toEqual(['a hooks,transcript v1']);
    expect(heldSpans(metrics)).toBe(0);
  });

  it('writes everything held when it stops', async () => {
    const bus = new InProcessBus();
    cleanup.push(() => bus.close());
    const stage = dedupeStage('agentotel.', { merge_window: '10m' });
    const metrics = new MetricsRegistry();
    const running = await startStage(bus, stage, fileDeadLetters(tempDir('stage-stop')), metrics);
    const out = await collectOutput(bus, stage, 'out');
    cleanup.push(() => out.stop());
    await bus.publish(stage.input, [viewMessage('hooks', 'a'), viewMessage('otel', 'b')]);
    await waitFor(
      async () => heldSpans(metrics),
      (n) => n === 2,
      10_000,
      'two spans held',
    );
    expect(out.written).toEqual([]);
    await running.stop();
    await waitFor(
      async () => out.written.length,
      (n) => n === 2,
      10_000,
      'the held spans',
    );
    expect(out.written.sort()).toEqual(['a hooks v1', 'b otel v1']);
  });
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
