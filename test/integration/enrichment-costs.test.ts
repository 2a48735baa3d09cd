/**
 * Cost and attribution end to end, on the real captures: `runEmbedded` with the default pipeline
 * gets every fixture session through all three capture paths — hooks posted as the agents post
 * them, the OTLP requests as they were sent, then the transcripts copied where the transcripts
 * receiver tails them. Per session, the rollup the query layer makes (the sum of
 * `agentotel.cost.usd` over the latest version of each model-call span) must equal what the CLI
 * itself reported (Claude Code), or what the MANIFEST's token totals cost (Codex); unknown models
 * (Gemini's) are unpriced, never $0. A synthetic session with a subagent shows the subagent's
 * cost inside its session's, and a transcript read a second time adds nothing.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sessionTraceId, type AgentName } from '../../core/agent/session-spans.ts';
import { queryRows, type ClickHouseClient } from '../../exporters/clickhouse/index.ts';
import { claudeCodeHookScenarios } from '../../receivers/hooks/test-harness.ts';
import { factsOf, scenariosWithFacts } from '../../receivers/otlp/agents/fixture-requests.ts';
import { loadServiceConfig, runEmbedded, type RunningService } from '../../service/service.ts';
import { agentScenarios, hookInvocations, manifestFacts } from '../helpers/agent-fixtures.ts';
import { fixturesDir, otlpCaptures } from '../helpers/fixtures.ts';
import { defaultConfigFile, embeddedClient, INGEST_TOKEN, pipelineEnv, repoRoot, tempDir } from '../helpers/pipeline.ts';
import { scrapeCounter } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

interface ClaudeFacts {
  session_ids: string[];
  scripted_model_calls: { successful: number };
  cost: { transcript_cost_state_total_usd: number; total_cost_usd_per_run: number[] };
}

const CLAUDE = 'claude-code';
const claudeScenarios = scenariosWithFacts(CLAUDE);
const dataDir = tempDir('enrichment-costs');
const roots = { claude: path.join(dataDir, 'claude'), codex: path.join(dataDir, 'codex'), gemini: path.join(dataDir, 'gemini') };
const MERGE_WINDOW_MS = 2_000;
let service: RunningService;
let client: ClickHouseClient;

/** The default config, with the bundled tables by absolute path, a short merge window and every agent's transcripts tailed. */
function writeConfig(): string {
  const config = parse(readFileSync(defaultConfigFile, 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;
  config.processors!.enrichment!.pricing_file = path.join(repoRoot, 'config/pricing.yaml');
  config.processors!.dedupe!.merge_window = `${MERGE_WINDOW_MS}ms`;
  config.receivers!.transcripts = {
    poll_interval: '200ms',
    sources: [
      { agent: 'claude-code', root: roots.claude },
      { agent: 'codex', root: roots.codex },
      { agent: 'gemini-cli', root: roots.gemini },
    ],
  };
  const file = path.join(dataDir, 'agentotel.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

async function post(url: string, body: BodyInit, contentType: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: `Bearer ${INGEST_TOKEN}`, ...headers },
    body,
  });
  expect(res.status, `${url}: ${await res.text()}`).toBe(200);
}

/** A fixture's OTLP request over HTTP (a gRPC capture is the raw request message: HTTP/protobuf). */
async function sendOtlp(signal: string, body: Buffer, contentType: string): Promise<void> {
  const json = contentType.includes('json');
  await post(
    `http://${service.endpoints['otlp.http']}/v1/${signal}`,
    new Uint8Array(body),
    json ? 'application/json' : 'application/x-protobuf',
  );
}

const hooksUrl = (agent: AgentName) => `http://${service.endpoints['hooks.http']}/v1/hooks${agent === CLAUDE ? '' : `/${agent}`}`;

interface Call {
  SpanId: string;
  attrs: Record<string, string>;
}

/** The latest version of each model-call span of a session, as the query layer reads them. */
const modelCalls = (agent: AgentName, sessionId: string) =>
  queryRows<Call>(
    client,
    `SELECT SpanId, argMax(SpanAttributes, toUInt32OrZero(SpanAttributes['agentotel.span.version'])) AS attrs
     FROM agentotel.otel_traces WHERE TraceId = {t:String} GROUP BY SpanId
     HAVING attrs['agentotel.span.kind'] = 'model_call'`,
    { t: sessionTraceId(agent, sessionId) },
  );

/** The latest version of the session span. */
async function sessionSpan(agent: AgentName, sessionId: string): Promise<Record<string, string> | undefined> {
  const [row] = await queryRows<{ attrs: Record<string, string> }>(
    client,
    `SELECT argMax(SpanAttributes, toUInt32OrZero(SpanAttributes['agentotel.span.version'])) AS attrs
     FROM agentotel.otel_traces WHERE TraceId = {t:String} AND SpanAttributes['agentotel.span.kind'] = 'session' GROUP BY SpanId`,
    { t: sessionTraceId(agent, sessionId) },
  );
  return row?.attrs;
}

const usd = (calls: Call[]) => calls.reduce((sum, c) => sum + Number(c.attrs['agentotel.cost.usd'] ?? 0), 0);
const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

// ── a session with a subagent (the fixtures have none), as Claude Code writes its transcripts ──

const SUB_SESSION = '5b1f3a52-0000-4000-8000-00000000c057';
const subBase = { sessionId: SUB_SESSION, cwd: '/home/dev/projects/api', version: '2.1.328', gitBranch: 'main', isSidechain: false };
const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 10, 0, s)).toISOString();
const line = (o: Record<string, unknown>) => JSON.stringify(o);
// claude-opus-5-5 as Claude Code prices it: 2·4 + 10·20 + 50·5 + 100·0.2 = 478 per MTok a call.
const CALL_USD = 0.000478;
const assistant = (s: number, requestId: string, content: unknown[], extra: Record<string, unknown> = {}) =>
  line({
    ...subBase,
    ...extra,
    type: 'assistant',
    timestamp: at(s),
    uuid: `u-${s}`,
    requestId,
    message: {
      id: `msg_${requestId}`,
      model: 'claude-opus-5-5',
      role: 'assistant',
      content,
      stop_reason: 'end_turn',
      usage: { input_tokens: 2, output_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 50 },
    },
  });
const sub = { ...subBase, isSidechain: true, agentId: 'a77' };
const subagentLines = [
  line({ ...sub, type: 'user', uuid: 's-1', timestamp: at(4), message: { role: 'user', content: 'Find the tests' } }),
  assistant(5, 'req_s1', [{ type: 'tool_use', id: 'toolu_glob', name: 'Glob', input: { pattern: '**/*.test.js' } }], sub),
  line({
    ...sub,
    type: 'user',
    uuid: 's-3',
    timestamp: at(6),
    message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_glob', content: 'a.test.js' }] },
  }),
  assistant(7, 'req_s2', [{ type: 'text', text: 'Found 3 test files' }], sub),
];
const mainLines = [
  line({ ...subBase, type: 'user', promptId: 'p1', uuid: 'u-1', timestamp: at(1), message: { role: 'user', content: 'Explore the repo' } }),
  assistant(3, 'req_1', [
    { type: 'tool_use', id: 'toolu_agent', name: 'Agent', input: { subagent_type: 'Explore', prompt: 'Find the tests' } },
  ]),
  line({
    ...subBase,
    type: 'user',
    promptId: 'p1',
    uuid: 'u-9',
    timestamp: at(9),
    toolUseResult: { status: 'completed', agentId: 'a77' },
    message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_agent', content: 'Found 3 test files' }] },
  }),
  line({ type: 'cost-state', sessionId: SUB_SESSION, totalCostUSD: 3 * CALL_USD }),
];

beforeAll(async () => {
  service = await runEmbedded(await loadServiceConfig(writeConfig(), pipelineEnv(dataDir)));
  client = embeddedClient(dataDir);

  // Hooks and OTLP first, as they arrive while the agent runs; a-baseline's hooks carry the team
  // (agentotel init's X-Agentotel-Resource-Attributes), none of its other paths does.
  for (const { name, hooks } of claudeCodeHookScenarios()) {
    const headers = name === 'a-baseline' ? { 'x-agentotel-resource-attributes': 'team=payments,department=eng' } : undefined;
    for (const hook of hooks) await post(hooksUrl(CLAUDE), hook.body, 'application/json', headers);
    for (const c of otlpCaptures(`${CLAUDE}/${name}`)) await sendOtlp(c.signal, c.body, c.content_type);
  }
  for (const [agent, dir] of [
    ...agentScenarios('codex').map((d) => ['codex', d] as const),
    ...agentScenarios('gemini').map((d) => ['gemini-cli', d] as const),
  ]) {
    for (const h of hookInvocations(dir)) await post(hooksUrl(agent), JSON.stringify(h.payload), 'application/json');
    const index = JSON.parse(readFileSync(path.join(dir, 'otlp', 'index.json'), 'utf8')) as {
      file: string;
      path: string;
      contentType: string;
    }[];
    for (const r of index) await sendOtlp(r.path.split('/').pop()!, readFileSync(path.join(dir, 'otlp', r.file)), r.contentType);
  }

  // Then the transcripts. The subagent's before the main one's, whose cost-state covers it.
  for (const scenario of claudeScenarios)
    cpSync(path.join(fixturesDir, CLAUDE, scenario, 'transcripts'), path.join(roots.claude, scenario), { recursive: true });
  for (const dir of agentScenarios('codex')) cpSync(path.join(dir, 'transcript', 'sessions'), roots.codex, { recursive: true });
  for (const dir of agentScenarios('gemini')) cpSync(path.join(dir, 'transcript', 'tmp'), roots.gemini, { recursive: true });
  const subDir = path.join(roots.claude, 'api', SUB_SESSION, 'subagents');
  mkdirSync(subDir, { recursive: true });
  writeFileSync(path.join(subDir, 'agent-a77.meta.json'), JSON.stringify({ agentType: 'Explore' }));
  writeFileSync(path.join(subDir, 'agent-a77.jsonl'), subagentLines.join('\n') + '\n');
  await waitFor(
    () => modelCalls(CLAUDE, SUB_SESSION),
    (calls) => calls.length === 2,
    60_000,
    'the subagent’s model calls',
  );
  writeFileSync(path.join(roots.claude, 'api', `${SUB_SESSION}.jsonl`), mainLines.join('\n') + '\n');
}, 180_000);

afterAll(async () => {
  await service?.stop();
  await client?.close();
});

describe('cost of every fixture session, end to end', () => {
  for (const scenario of claudeScenarios) {
    const facts = factsOf<ClaudeFacts>(CLAUDE, scenario);
    const sessionId = facts.session_ids[0]!;
    const reported = facts.cost.transcript_cost_state_total_usd;

    it(`${scenario}: the priced model calls sum to the CLI's reported cost (${reported}), each reconciled`, async () => {
      const calls = await waitFor(
        () => modelCalls(CLAUDE, sessionId),
        (c) => c.length === facts.scripted_model_calls.successful && close(usd(c), reported),
        50_000,
        `the priced model calls of ${scenario}`,
      );
      // Every call priced with the table, and where Claude Code said what it cost (its api_request
      // event, the OTel path), that figure agrees.
      for (const { attrs } of calls) {
        expect(attrs).toMatchObject({ 'agentotel.pricing.version': '2026-11-23.1', 'agentotel.pricing.model': 'claude-opus-5-5' });
        expect(attrs['agentotel.cost.unpriced']).toBeUndefined();
        expect(attrs['agentotel.cost.drift']).toBe('false');
        expect(close(Number(attrs['agentotel.agent.cost_usd']), Number(attrs['agentotel.cost.usd']))).toBe(true);
      }
      // The session's own total (the transcript's cost-state) against the sum.
      const session = await waitFor(
        () => sessionSpan(CLAUDE, sessionId),
        (s) => s?.['agentotel.cost.computed_usd'] !== undefined && close(Number(s['agentotel.cost.computed_usd']), reported),
        30_000,
        `the reconciled session of ${scenario}`,
      );
      expect(session).toMatchObject({ 'agentotel.cost.drift': 'false', 'agentotel.cost.drift_usd': '0' });
    });
  }

  it('e-multi-turn (run, --resume, --continue): eight calls over three runs, each once, sum to the last run’s cumulative total', async () => {
    const facts = factsOf<ClaudeFacts>(CLAUDE, 'e-multi-turn');
    const calls = await modelCalls(CLAUDE, facts.session_ids[0]!);
    expect(calls).toHaveLength(8);
    expect(facts.cost.total_cost_usd_per_run).toHaveLength(3);
    expect(close(usd(calls), facts.cost.total_cost_usd_per_run[2]!)).toBe(true);
  });

  it('a transcript read again (a resumed session repeating its earlier records) adds nothing', async () => {
    const facts = factsOf<ClaudeFacts>(CLAUDE, 'e-multi-turn');
    const file = `${facts.session_ids[0]}.jsonl`;
    const telemetry = service.endpoints.telemetry!;
    const linesBefore = await scrapeCounter(telemetry, 'agentotel_transcript_lines_total', 'agent="claude-code"');
    const lines = readFileSync(path.join(fixturesDir, CLAUDE, 'e-multi-turn', 'transcripts', file), 'utf8')
      .trim()
      .split('\n').length;
    cpSync(path.join(fixturesDir, CLAUDE, 'e-multi-turn', 'transcripts', file), path.join(roots.claude, 'e-multi-turn-again', file));
    await waitFor(
      () => scrapeCounter(telemetry, 'agentotel_transcript_lines_total', 'agent="claude-code"'),
      (n) => n >= linesBefore + lines,
      30_000,
      'the copy read',
    );
    await new Promise((r) => setTimeout(r, 3 * MERGE_WINDOW_MS));
    const calls = await modelCalls(CLAUDE, facts.session_ids[0]!);
    expect(calls).toHaveLength(8);
    expect(close(usd(calls), facts.cost.transcript_cost_state_total_usd)).toBe(true);
  });

  for (const dir of agentScenarios('codex')) {
    it(`Codex ${path.basename(dir)}: cached input and reasoning counted once — the MANIFEST's token totals at gpt-5.5's rates`, async () => {
      const f = manifestFacts(dir);
      const t = f.scriptedTotals as { input: number; cached: number; output: number; reasoning: number };
      // Input includes the cached tokens, output the reasoning ones: (input − cached)·$5 + cached·$0.50 + output·$30.
      const expected = ((t.input - t.cached) * 5 + t.cached * 0.5 + t.output * 30) / 1e6;
      expect(t.reasoning).toBeGreaterThan(0);
      const calls = await waitFor(
        () => modelCalls('codex', f.sessionId),
        (c) => c.length > 0 && close(usd(c), expected),
        50_000,
        `the priced model calls of Codex ${path.basename(dir)} (expected $${expected})`,
      );
      expect(calls.every((c) => c.attrs['agentotel.pricing.model'] === 'gpt-5.5')).toBe(true);
    });
  }

  for (const dir of agentScenarios('gemini')) {
    it(`Gemini ${path.basename(dir)}: models the table does not know are flagged unpriced, never $0`, async () => {
      const f = manifestFacts(dir);
      const calls = await waitFor(
        () => modelCalls('gemini-cli', f.sessionId),
        (c) => c.length > 0 && c.every((x) => x.attrs['agentotel.pricing.version'] !== undefined),
        50_000,
        `the model calls of Gemini ${path.basename(dir)}`,
      );
      for (const { attrs } of calls) {
        expect(attrs['agentotel.cost.unpriced']).toBe('true');
        expect(attrs['agentotel.cost.usd']).toBeUndefined();
      }
    });
  }
});

describe('attribution and git context, end to end', () => {
  it('a-baseline: the team the hooks brought, the project of its working directory and its branch on every span', async () => {
    const sessionId = factsOf<ClaudeFacts>(CLAUDE, 'a-baseline').session_ids[0]!;
    const spans = await waitFor(
      () =>
        queryRows<{ attrs: Record<string, string> }>(
          client,
          `SELECT argMax(SpanAttributes, toUInt32OrZero(SpanAttributes['agentotel.span.version'])) AS attrs
           FROM agentotel.otel_traces WHERE TraceId = {t:String} GROUP BY SpanId`,
          { t: sessionTraceId(CLAUDE, sessionId) },
        ),
      (rows) => rows.length > 0 && rows.every((r) => r.attrs['vcs.ref.head.name'] === 'main'),
      50_000,
      'the a-baseline spans with their branch',
    );
    for (const { attrs } of spans) {
      expect(attrs).toMatchObject({ 'agentotel.team': 'payments', 'agentotel.department': 'eng', 'agentotel.project': 'hello-node' });
      expect(attrs['agentotel.user']).toMatch(/^anon_[0-9a-f]{32}$/);
    }
  });

  it('a subagent’s calls carry its id in its session; its cost is inside the session’s, counted once', async () => {
    const session = await waitFor(
      () => sessionSpan(CLAUDE, SUB_SESSION),
      (s) => s?.['agentotel.cost.computed_usd'] !== undefined,
      50_000,
      'the reconciled subagent session',
    );
    const calls = await modelCalls(CLAUDE, SUB_SESSION);
    const ofSubagent = calls.filter((c) => c.attrs['agentotel.subagent.id'] === 'a77');
    expect(calls).toHaveLength(3);
    expect(ofSubagent).toHaveLength(2);
    expect(
      ofSubagent.every((c) => c.attrs['agentotel.subagent.type'] === 'Explore' && c.attrs['gen_ai.conversation.id'] === SUB_SESSION),
    ).toBe(true);
    // The rollups: the session's cost is all its calls', the subagent's its own.
    expect(close(usd(calls), 3 * CALL_USD)).toBe(true);
    expect(close(usd(ofSubagent), 2 * CALL_USD)).toBe(true);
    expect(close(Number(session!['agentotel.cost.computed_usd']), 3 * CALL_USD)).toBe(true);
    expect(session!['agentotel.cost.drift']).toBe('false');
  });
});
