/**
 * At-least-once made exact, on the real Kafka broker with the workers as separate OS processes
 * (`agentotel worker redaction,enrichment`, `agentotel worker dedupe`, `agentotel exporter`):
 * sessions whose spans arrive as views from three capture paths (hooks, transcript, otel), some
 * sent twice as a retrying client does, and foreign spans. After each of
 *   - a dedupe worker SIGKILLed while it holds spans, and restarted,
 *   - both worker groups reset to offset 0 and replaying their whole input,
 *   - a second replica of each worker started mid-stream (a rebalance), then the first one
 *     SIGKILLed (another), and late views rewriting spans,
 * ClickHouse holds exactly the expected rows: one per span and version, with the union of
 * what every path knew; and the replay writes nothing at all.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  AgentAttr,
  capturesToTraces,
  sessionTraceId,
  type CapturePath,
  type SpanRef,
  type SpanView,
} from '../../core/agent/session-spans.ts';
import { KafkaBus } from '../../core/bus/kafka.ts';
import { signalTopic } from '../../core/bus/topics.ts';
import { spanIdFor, traceIdFor } from '../../core/ids.ts';
import type { OutgoingMessage } from '../../core/bus/bus.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { queryRows } from '../../exporters/clickhouse/index.ts';
import { kafkaBrokers, uniqueTopicPrefix } from '../helpers/kafka.ts';
import { defaultConfigFile, embeddedClient, pipelineEnv, repoRoot, tempDir } from '../helpers/pipeline.ts';
import { scrapeCounter, startAgentotel, type AgentotelProcess } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

const MERGE_WINDOW_MS = 2_000;
const SESSIONS = 24;
const dataDir = tempDir('dedupe-exact');
const prefix = uniqueTopicPrefix('dedupe-exact');
const receivedTopic = signalTopic(`${prefix}traces.received`, 'traces');
const dedupeInput = `${prefix}traces.enrichment`;
const dedupeOutput = `${prefix}traces.dedupe`;
const groups = { stateless: `${prefix}traces.redaction+enrichment`, dedupe: `${prefix}traces.dedupe` };
const running = new Map<string, AgentotelProcess>();
let env: NodeJS.ProcessEnv;
let configFile: string;
let bus: KafkaBus;
let admin: Admin;

const roles = {
  stateless: ['worker', 'redaction,enrichment'],
  dedupe: ['worker', 'dedupe'],
  exporter: ['exporter', 'clickhouse'],
} as const;

async function start(name: string, role: keyof typeof roles): Promise<AgentotelProcess> {
  const p = startAgentotel(name, [...roles[role], '-c', configFile], env);
  running.set(name, p);
  await p.ready;
  return p;
}

const telemetry = async (name: string) => (await running.get(name)!.ready).endpoints.telemetry!;
const metric = async (name: string, metricName: string) => scrapeCounter(await telemetry(name), metricName);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ── the sessions of a scenario ───────────────────────────────────────────────

const KINDS: { ref: (s: string) => SpanRef; parent?: (s: string) => SpanRef; name: string }[] = [
  { ref: (s) => ({ kind: 'session', key: s }), name: 'invoke_agent claude-code' },
  { ref: () => ({ kind: 'prompt', key: 'p1' }), parent: (s) => ({ kind: 'session', key: s }), name: 'prompt' },
  { ref: () => ({ kind: 'model_call', key: 'req_1' }), parent: () => ({ kind: 'prompt', key: 'p1' }), name: 'chat claude-sonnet-4-5' },
  { ref: () => ({ kind: 'tool_call', key: 'toolu_1' }), parent: () => ({ kind: 'prompt', key: 'p1' }), name: 'execute_tool Bash' },
];
const FOREIGN_PER_SESSION = 3;
const T0 = 1_763_769_600_000_000_000n;

const sessionIds = (scenario: string) => Array.from({ length: SESSIONS }, (_, i) => `${scenario}-${i}`);

/** What capture path `path` saw of every span of the session (all four spans, each path its own attributes). */
function pathMessage(
  scenario: string,
  session: string,
  path: CapturePath,
  extra: Record<string, string> = {},
): OutgoingMessage<TracesData> {
  const views: SpanView[] = KINDS.map(({ ref, parent, name }, i) => ({
    ref: ref(session),
    parent: parent?.(session),
    name,
    startNs: T0 + BigInt(i) * 1_000_000_000n,
    endNs: T0 + BigInt(i + 1) * 1_000_000_000n,
    attributes: { 'test.scenario': scenario, [`test.${path}`]: name, 'test.conflict': path, ...extra },
  }));
  const value = capturesToTraces([{ agent: 'claude-code', sessionId: session, path, resource: { team: 'payments' }, views }]);
  return { key: sessionTraceId('claude-code', session), value };
}

/** Spans of an application instrumented with OTel (no capture path), in a trace of their own. */
function foreignMessage(scenario: string, session: string): OutgoingMessage<TracesData> {
  const traceId = traceIdFor('foreign', session);
  const spans = Array.from({ length: FOREIGN_PER_SESSION }, (_, i) => ({
    traceId,
    spanId: spanIdFor(traceId, 'foreign', String(i)),
    name: `foreign ${session} ${i}`,
    startTimeUnixNano: String(T0),
    endTimeUnixNano: String(T0 + 1_000_000n),
    attributes: [{ key: 'test.scenario', value: { stringValue: scenario } }],
  }));
  return { key: traceId, value: { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] } };
}

/**
 * Publishes the scenario as a stream: each session's views and foreign spans over a few ticks
 * (so a session's paths arrive in different batches), the hooks message a second time (a
 * client retrying), interleaved with the next sessions'.
 */
async function stream(scenario: string, tickMs: number, checkpoints: Record<number, () => Promise<void>> = {}): Promise<void> {
  const sessions = sessionIds(scenario);
  const ticks: OutgoingMessage<TracesData>[][] = Array.from({ length: sessions.length + 4 }, () => []);
  sessions.forEach((s, i) => {
    ticks[i]!.push(pathMessage(scenario, s, 'hooks'), foreignMessage(scenario, s));
    ticks[i + 1]!.push(pathMessage(scenario, s, 'otel'));
    ticks[i + 2]!.push(pathMessage(scenario, s, 'transcript'), foreignMessage(scenario, s));
    ticks[i + 3]!.push(pathMessage(scenario, s, 'hooks'));
  });
  for (const [i, messages] of ticks.entries()) {
    await checkpoints[i]?.();
    await bus.publish(receivedTopic, messages);
    await sleep(tickMs);
  }
}

// ── what ClickHouse must hold ────────────────────────────────────────────────

interface Row {
  TraceId: string;
  SpanId: string;
  SpanName: string;
  version: string;
  attrs: Record<string, string>;
  team: string;
}

/** The rows of the scenarios; the exporter is stopped for the query (the embedded engine belongs to one process), and started again unless it is the last. */
async function storedRows({ last = false } = {}): Promise<Row[]> {
  expect(await running.get('exporter')!.stop('SIGTERM')).toBe(0);
  const client = embeddedClient(dataDir);
  try {
    return await queryRows<Row>(
      client,
      `SELECT TraceId, SpanId, SpanName, SpanAttributes['${AgentAttr.version}'] AS version, SpanAttributes AS attrs,
              ResourceAttributes['team'] AS team
       FROM agentotel.otel_traces WHERE SpanAttributes['test.scenario'] != ''`,
    );
  } finally {
    await client.close();
    if (!last) await start('exporter', 'exporter');
  }
}

/**
 * Exactly the expected spans, each (span, version) in one row: every agent span as version 1
 * with what each path knew (the tool calls given a late view as versions 1 and 2), each
 * foreign span once. When an upstream worker stalled longer than the merge window (a SIGKILLed
 * worker's partitions wait for its session timeout), the views behind the stall come late and
 * rewrite their span: then versions 1..n, the last with what every path knew.
 */
function expectExact(allRows: Row[], scenario: string, { late = false, upstreamStalled = false } = {}): void {
  const rows = allRows.filter((r) => r.attrs['test.scenario'] === scenario);
  const sessions = sessionIds(scenario);
  const identities = rows.map((r) => `${r.TraceId}/${r.SpanId}/${r.version}`);
  expect(new Set(identities).size).toBe(rows.length); // no (TraceId, SpanId, version) twice
  expect(new Set(rows.map((r) => `${r.TraceId}/${r.SpanId}`)).size).toBe(sessions.length * (KINDS.length + FOREIGN_PER_SESSION));
  if (!upstreamStalled) expect(rows).toHaveLength(sessions.length * (KINDS.length + (late ? 1 : 0) + FOREIGN_PER_SESSION));

  const foreign = rows.filter((r) => r.SpanName.startsWith('foreign')).map((r) => r.SpanName);
  expect(foreign.sort()).toEqual(sessions.flatMap((s) => [0, 1, 2].map((i) => `foreign ${s} ${i}`)).sort());

  for (const s of sessions) {
    const trace = rows.filter((r) => r.TraceId === sessionTraceId('claude-code', s));
    for (const { name } of KINDS) {
      const versions = trace.filter((r) => r.SpanName === name).sort((a, b) => Number(a.version) - Number(b.version));
      const isLate = late && name === 'execute_tool Bash';
      const expected = isLate ? 2 : 1;
      const n = upstreamStalled ? Math.max(expected, versions.length) : expected;
      expect(
        versions.map((r) => r.version),
        `${s} ${name}`,
      ).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)));
      const latest = versions.at(-1)!;
      expect(latest.attrs, `${s} ${name}`).toMatchObject({
        'test.hooks': name,
        'test.otel': name,
        'test.transcript': name,
        'test.conflict': 'transcript', // transcript > otel > hooks
        [AgentAttr.capturePath]: 'hooks,otel,transcript',
        [AgentAttr.timeKnown]: 'both',
        'agentotel.redaction.tier': '2',
        ...(isLate && { 'test.late': 'yes' }),
      });
      expect(latest.team).toBe('payments');
    }
  }
}

/** Waits until the exporter wrote `rows` rows since it (re)started, then a merge window more for anything written twice. */
async function settled(rows: number): Promise<void> {
  await waitFor(
    () => metric('exporter', 'agentotel_clickhouse_rows_written_total'),
    (n) => n >= rows,
    60_000,
    `${rows} rows written by the exporter`,
  );
  await sleep(MERGE_WINDOW_MS + 2_000);
}

async function topicEnds(topic: string): Promise<string> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.map((o) => `${o.partition}:${o.high}`).join(' ');
}

function dumpOnFailure(): void {
  onTestFailed(() => {
    for (const p of running.values()) console.error(`--- ${p.name} (last output)\n${p.output().slice(-3_000)}`);
  });
}

beforeAll(async () => {
  const config = parse(readFileSync(defaultConfigFile, 'utf8')) as {
    processors: { enrichment: Record<string, unknown>; dedupe: Record<string, unknown> };
  };
  config.processors.enrichment.pricing_file = path.join(repoRoot, 'config/pricing.yaml');
  config.processors.dedupe.merge_window = `${MERGE_WINDOW_MS}ms`;
  configFile = path.join(dataDir, 'agentotel.yaml');
  writeFileSync(configFile, stringify(config));
  env = pipelineEnv(dataDir, {
    AGENTOTEL_KAFKA_BROKERS: kafkaBrokers().join(','),
    AGENTOTEL_TOPIC_PREFIX: prefix,
    // A SIGKILLed worker's partitions move to another member after this long.
    AGENTOTEL_KAFKA_SESSION_TIMEOUT: '3s',
  });
  bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'dedupe-exact-test', partitions: 4, replicationFactor: 1 });
  admin = new Kafka({ clientId: 'dedupe-exact-admin', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  // The exporter creates the topics; the workers start right after (their rebuild reads a topic created a moment ago).
  await start('exporter', 'exporter');
  await Promise.all([start('stateless-1', 'stateless'), start('dedupe-1', 'dedupe')]);
}, 120_000);

afterAll(async () => {
  await bus?.close();
  await admin?.disconnect();
  await Promise.all([...running.values()].map((p) => p.stop('SIGKILL')));
});

describe('dedupe on Kafka: exactly the expected spans', () => {
  it('a dedupe worker SIGKILLed while it holds spans, and restarted', async () => {
    dumpOnFailure();
    const flowing = stream('kill', 80);
    await waitFor(
      () => metric('dedupe-1', 'agentotel_dedupe_held_spans'),
      (n) => n > 0,
      30_000,
      'the dedupe worker holding spans',
    );
    await sleep(400); // part-way through the stream
    await running.get('dedupe-1')!.stop('SIGKILL');
    await start('dedupe-1', 'dedupe');
    await flowing;
    await settled(SESSIONS * (KINDS.length + FOREIGN_PER_SESSION));
    expectExact(await storedRows(), 'kill');
  }, 120_000);

  it('both worker groups reset to offset 0: their whole input again, and nothing written', async () => {
    dumpOnFailure();
    const before = await topicEnds(dedupeOutput);
    const input = await admin.fetchTopicOffsets(dedupeInput);
    const consumed = (n: number) => metric('dedupe-1', 'agentotel_worker_consumed_messages_total').then((c) => c >= n);
    // A group's offsets can be reset only while it has no members.
    expect(await running.get('stateless-1')!.stop('SIGTERM')).toBe(0);
    expect(await running.get('dedupe-1')!.stop('SIGTERM')).toBe(0);
    await admin.resetOffsets({ groupId: groups.stateless, topic: receivedTopic.name, earliest: true });
    await admin.resetOffsets({ groupId: groups.dedupe, topic: dedupeInput, earliest: true });
    await Promise.all([start('stateless-1', 'stateless'), start('dedupe-1', 'dedupe')]);

    // The dedupe worker reads its old input and the stateless worker's second output of it.
    const everything = 2 * input.reduce((n, p) => n + Number(p.high), 0);
    await waitFor(() => consumed(everything), Boolean, 60_000, `dedupe consuming ${everything} messages`);
    await sleep(MERGE_WINDOW_MS + 2_000); // the replayed views were held, merged and compared
    expect(await topicEnds(dedupeOutput)).toBe(before);
    expect(await metric('dedupe-1', 'agentotel_dedupe_dropped_spans_total')).toBeGreaterThan(0);
    expectExact(await storedRows(), 'kill');
  }, 120_000);

  it('two replicas of each worker in one group: one joins mid-stream, the other is SIGKILLed mid-stream; late views rewrite', async () => {
    dumpOnFailure();
    let replicas: Promise<unknown> | undefined;
    await stream('replicas', 150, {
      // A second replica of each worker joins while the stream flows: a rebalance.
      4: async () => void (replicas = Promise.all([start('stateless-2', 'stateless'), start('dedupe-2', 'dedupe')])),
      // Once they run (the stream goes on meanwhile), the first replicas die: another one, after their session timeout.
      14: async () => {
        await replicas;
        await Promise.all([running.get('stateless-1')!.stop('SIGKILL'), running.get('dedupe-1')!.stop('SIGKILL')]);
      },
    });
    const written = SESSIONS * (KINDS.length + FOREIGN_PER_SESSION);
    await settled(written);
    // A view that adds to a written span: each tool call is written again, as version 2.
    await bus.publish(
      receivedTopic,
      sessionIds('replicas').map((s) => {
        const m = pathMessage('replicas', s, 'otel', { 'test.late': 'yes' });
        const spans = m.value.resourceSpans![0]!.scopeSpans![0]!.spans!.filter((span) => span.name === 'execute_tool Bash');
        m.value.resourceSpans![0]!.scopeSpans![0]!.spans = spans;
        return m;
      }),
    );
    await settled(written + SESSIONS);
    const rows = await storedRows({ last: true });
    expectExact(rows, 'replicas', { late: true, upstreamStalled: true });
    expectExact(rows, 'kill');
  }, 150_000);

  it('the workers stop cleanly on SIGTERM', async () => {
    for (const name of ['stateless-2', 'dedupe-2']) expect(await running.get(name)!.stop('SIGTERM')).toBe(0);
  }, 60_000);
});
