/**
 * The dedupe merge on the real Kafka broker, with separate OS processes as in distributed
 * mode: one worker running `redaction,enrichment,dedupe` and the ClickHouse exporter. Views of
 * the same session spans from three capture paths (hooks, transcript, otel), published to the
 * received topic as the receivers publish them, become one row per span with the union of
 * what each path knew; a worker SIGKILLed while spans are held writes every span exactly once
 * after its restart.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  AgentAttr,
  capturesToTraces,
  sessionTraceId,
  type CapturePath,
  type SessionCapture,
  type SpanView,
} from '../../core/agent/session-spans.ts';
import { KafkaBus } from '../../core/bus/kafka.ts';
import { signalTopic } from '../../core/bus/topics.ts';
import { queryRows } from '../../exporters/clickhouse/index.ts';
import { kafkaBrokers, uniqueTopicPrefix } from '../helpers/kafka.ts';
import { defaultConfigFile, embeddedClient, pipelineEnv, repoRoot, tempDir } from '../helpers/pipeline.ts';
import { scrapeCounter, startAgentotel, type AgentotelProcess } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

const MERGE_WINDOW = '8s';
const dataDir = tempDir('dedupe-merge');
const prefix = uniqueTopicPrefix('dedupe-merge');
const running = new Map<string, AgentotelProcess>();
let env: NodeJS.ProcessEnv;
let configFile: string;
let bus: KafkaBus;

/** The default config with a merge window of the test's own (and the pricing table found from the temp dir). */
function writeConfig(): string {
  const config = parse(readFileSync(defaultConfigFile, 'utf8')) as {
    processors: { enrichment: Record<string, unknown>; dedupe: Record<string, unknown> };
  };
  config.processors.enrichment.pricing_file = path.join(repoRoot, 'config/pricing.yaml');
  config.processors.dedupe.merge_window = MERGE_WINDOW;
  const file = path.join(dataDir, 'agentotel.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

const roles: Record<string, string[]> = {
  worker: ['worker', 'redaction,enrichment,dedupe'],
  exporter: ['exporter', 'clickhouse'],
};

async function start(role: string): Promise<AgentotelProcess> {
  const p = startAgentotel(role, [...roles[role]!, '-c', configFile], env);
  running.set(role, p);
  await p.ready;
  return p;
}

async function telemetry(role: string): Promise<string> {
  return (await running.get(role)!.ready).endpoints.telemetry!;
}

// ── one Claude Code session as each capture path sees it ─────────────────────

const SESSION = 'merge-session-1';
const TRACE = sessionTraceId('claude-code', SESSION);
const ns = (second: number) => 1_763_769_600_000_000_000n + BigInt(second) * 1_000_000_000n;
const session = { kind: 'session', key: SESSION } as const;
const prompt = (key: string) => ({ kind: 'prompt', key }) as const;

function view(ref: SpanView['ref'], parent: SpanView['parent'], name: string, extra: Partial<SpanView>): SpanView {
  return { ref, parent, name, ...extra };
}

/** The views of prompt `n` (its prompt, a model call, a tool call) and the session root, by path. */
function turn(n: number): Record<CapturePath, SpanView[]> {
  const p = prompt(`prompt-${n}`);
  const model = { kind: 'model_call', key: `req_${n}` } as const;
  const tool = { kind: 'tool_call', key: `toolu_${n}` } as const;
  const t = n * 100;
  return {
    hooks: [
      view(session, undefined, 'invoke_agent claude-code', { startNs: ns(0), attributes: { 'test.hooks': 'session' } }),
      view(p, session, 'prompt', { startNs: ns(t + 1), attributes: { 'test.hooks': 'prompt', 'test.conflict': 'hooks' } }),
      view(tool, p, 'execute_tool Bash', {
        startNs: ns(t + 3),
        endNs: ns(t + 4),
        attributes: { 'gen_ai.tool.name': 'Bash', 'test.hooks': 'tool', 'test.conflict': 'hooks', 'test.exit_code': 0 },
      }),
    ],
    transcript: [
      view(session, undefined, 'invoke_agent claude-code', { attributes: { 'test.transcript': 'session' } }),
      view(p, session, 'prompt', {
        startNs: ns(t + 1) + 250_000_000n,
        attributes: { 'test.transcript': 'prompt', 'test.conflict': 'transcript' },
      }),
      view(model, p, 'chat claude-sonnet-4-5', {
        startNs: ns(t + 2),
        endNs: ns(t + 3),
        attributes: { 'gen_ai.request.model': 'claude-sonnet-4-5', 'test.transcript': 'model', 'test.conflict': 'transcript' },
      }),
      view(tool, p, 'execute_tool Bash', {
        startNs: ns(t + 3) + 500_000_000n,
        endNs: ns(t + 5),
        attributes: { 'gen_ai.tool.name': 'Bash', 'test.transcript': 'tool', 'test.conflict': 'transcript' },
      }),
    ],
    otel: [
      view(model, p, 'chat claude-sonnet-4-5', {
        endNs: ns(t + 3) + 100_000_000n,
        attributes: { 'gen_ai.request.model': 'claude-sonnet-4-5', 'test.otel': 'model', 'test.conflict': 'otel' },
      }),
      view(tool, p, 'execute_tool Bash', {
        startNs: ns(t + 3),
        endNs: ns(t + 4),
        attributes: { 'test.otel': 'tool', 'test.conflict': 'otel' },
      }),
    ],
  };
}

const capture = (path: CapturePath, views: SpanView[]): SessionCapture => ({
  agent: 'claude-code',
  sessionId: SESSION,
  path,
  resource: { team: 'payments' },
  views,
});

/** One message per path, keyed by trace id as the receivers publish them. */
async function publishViews(views: Record<CapturePath, SpanView[]>, order: CapturePath[] = ['hooks', 'otel', 'transcript']): Promise<void> {
  const topic = signalTopic(`${prefix}traces.received`, 'traces');
  await bus.publish(
    topic,
    order.map((p) => ({ key: TRACE, value: capturesToTraces([capture(p, views[p])]) })),
  );
}

// ── ClickHouse, read between exporter runs (the embedded engine belongs to one process) ──

interface Row {
  SpanId: string;
  SpanName: string;
  ParentSpanId: string;
  start: string;
  attrs: Record<string, string>;
  resource: Record<string, string>;
}

async function storedRows(): Promise<Row[]> {
  expect(await running.get('exporter')!.stop('SIGTERM')).toBe(0);
  const client = embeddedClient(dataDir);
  try {
    return await queryRows<Row>(
      client,
      `SELECT SpanId, SpanName, ParentSpanId, toString(toUnixTimestamp64Nano(Timestamp)) AS start,
              SpanAttributes AS attrs, ResourceAttributes AS resource
       FROM agentotel.otel_traces WHERE TraceId = {t:String} ORDER BY SpanId`,
      { t: TRACE },
    );
  } finally {
    await client.close();
    await start('exporter');
  }
}

async function waitForRows(atLeast: number): Promise<void> {
  const address = await telemetry('exporter');
  await waitFor(
    () => scrapeCounter(address, 'agentotel_clickhouse_rows_written_total', 'otel_traces'),
    (n) => n >= atLeast,
    90_000,
    `${atLeast} rows written by the exporter`,
  );
}

beforeAll(async () => {
  env = pipelineEnv(dataDir, {
    AGENTOTEL_KAFKA_BROKERS: kafkaBrokers().join(','),
    AGENTOTEL_TOPIC_PREFIX: prefix,
    // A SIGKILLed worker's partitions move to its replacement after this long.
    AGENTOTEL_KAFKA_SESSION_TIMEOUT: '6s',
  });
  configFile = writeConfig();
  bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'dedupe-merge-test', partitions: 4, replicationFactor: 1 });
  // The exporter creates the topics; the worker, replaying its output topic at start, after it.
  await start('exporter');
  await start('worker');
}, 180_000);

afterAll(async () => {
  await bus?.close();
  await Promise.all([...running.values()].map((p) => p.stop('SIGKILL')));
});

describe('dedupe merge on Kafka', () => {
  it('writes one row per span with the union of what hooks, transcript and otel knew, when their views arrive within the merge window', async () => {
    onTestFailed(() => {
      for (const p of running.values()) console.error(`--- ${p.name} (last output)\n${p.output().slice(-3_000)}`);
    });
    const views = turn(1);
    await publishViews(views, ['transcript', 'hooks', 'otel']);
    await waitForRows(4); // session, prompt, model call, tool call
    await new Promise((r) => setTimeout(r, 2_000)); // a second write of any span would have arrived by now
    const rows = await storedRows();
    expect(rows).toHaveLength(4);
    const byName = new Map(rows.map((r) => [r.SpanName, r]));

    const tool = byName.get('execute_tool Bash')!;
    expect(tool.attrs).toMatchObject({
      'test.hooks': 'tool',
      'test.transcript': 'tool',
      'test.otel': 'tool',
      'test.exit_code': '0',
      'test.conflict': 'transcript',
      'agentotel.redaction.tier': '2', // every view went through the chain before the merge
      [AgentAttr.capturePath]: 'hooks,otel,transcript',
      [AgentAttr.timeKnown]: 'both',
      [AgentAttr.version]: '1',
    });
    expect(tool.start).toBe(String(ns(103))); // the hook's start, not the transcript's
    expect(tool.resource).toMatchObject({ team: 'payments', 'service.name': 'claude-code' });

    const model = byName.get('chat claude-sonnet-4-5')!;
    expect(model.attrs).toMatchObject({ 'test.transcript': 'model', 'test.otel': 'model', 'test.conflict': 'transcript' });
    expect(model.attrs[AgentAttr.capturePath]).toBe('otel,transcript');

    const promptRow = byName.get('prompt')!;
    expect(promptRow.attrs).toMatchObject({ 'test.hooks': 'prompt', 'test.transcript': 'prompt', 'test.conflict': 'transcript' });
    expect(promptRow.attrs[AgentAttr.capturePath]).toBe('hooks,transcript');
    expect(promptRow.start).toBe(String(ns(101)));
    const root = byName.get('invoke_agent claude-code')!;
    expect(promptRow.ParentSpanId).toBe(root.SpanId);
    expect(root.attrs[AgentAttr.timeKnown]).toBe('start');

    const dedupe = await telemetry('worker');
    expect(await scrapeCounter(dedupe, 'agentotel_dedupe_merged_views_total')).toBe(5);
  }, 180_000);

  it('writes every span exactly once although the worker is SIGKILLed while spans are held, and restarted', async () => {
    onTestFailed(() => {
      for (const p of running.values()) console.error(`--- ${p.name} (last output)\n${p.output().slice(-3_000)}`);
    });
    // New spans of the same session (same partition), then exact repeats of the first turn's
    // views: the repeats sit after held offsets, so the restarted worker gets them again and
    // must recognise them from what it replays of its output topic.
    await publishViews(turn(2));
    await publishViews(turn(1));
    const worker = await telemetry('worker');
    await waitFor(
      () => scrapeCounter(worker, 'agentotel_dedupe_held_spans'),
      (n) => n === 3, // prompt, model call, tool call of turn 2 (the root was written in the first test)
      30_000,
      'the new spans held',
    );
    await running.get('worker')!.stop('SIGKILL');
    await start('worker');
    expect(await scrapeCounter(await telemetry('worker'), 'agentotel_dedupe_remembered_spans')).toBeGreaterThanOrEqual(4);

    await waitForRows(3); // the exporter restarted after the last query: its counter counts anew
    await new Promise((r) => setTimeout(r, 3_000));
    const rows = await storedRows();
    expect(rows.map((r) => r.SpanId)).toEqual([...new Set(rows.map((r) => r.SpanId))]);
    expect(rows).toHaveLength(7);
    expect(rows.filter((r) => r.attrs[AgentAttr.version] !== '1')).toEqual([]);
    const dropped = await scrapeCounter(await telemetry('worker'), 'agentotel_dedupe_dropped_spans_total');
    expect(dropped).toBeGreaterThan(0); // the repeats of turn 1, recognised after the restart
  }, 240_000);

  it('the worker writes what it holds and stops cleanly on SIGTERM', async () => {
    expect(await running.get('worker')!.stop('SIGTERM')).toBe(0);
  }, 60_000);
});
