/**
 * The proof, end to end: the real Claude Code CLI (headless `claude -p`) against a scripted
 * Messages API, wired to a running agentotel by `agentotel init` (http hooks, the OTEL_* env
 * block; the transcripts receiver tails the CLI's HOME). Every scenario runs once per
 * OTLP protocol; then agentotel stops and the rows in ClickHouse must tell each session exactly:
 * one trace, no duplicate span, every parent present, one span per prompt / model call / tool
 * call / subagent with the natural-key ids, the scripted tokens per model, the failed tools, and
 * each span merged from every capture path that saw it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSpanId, type AgentSpanKind, type CapturePath } from '../../core/agent/session-spans.ts';
import { queryRows } from '../../exporters/clickhouse/index.ts';
import type { OtlpProtocol } from '../helpers/otel-sdk.ts';
import { tempDir } from '../helpers/pipeline.ts';
import { E2E_TOKEN, latestWrites, runAgentotel, spanAttr, spanWrites, type AgentotelRun, type SpanWrite } from './agentotel-under-test.ts';
import { claudeBinary, readSessionArtifacts, runClaude, type ClaudeRun } from './claude-cli.ts';
import { expectedSession, tokensByModel, type ExpectedSession, type TokenTotals } from './expected-session.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';
import { startScriptedModel, type ScriptedModel } from './scripted-model.ts';
import { wireAgent } from './wiring.ts';

const PROTOCOLS: OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];
const TOOL_ID_TAG: Record<OtlpProtocol, string> = { grpc: 'G', 'http/protobuf': 'P', 'http/json': 'J' };
const TEAM = 'payments';
const USER = 'ana@example.com';

/**
 * The capture paths that know each kind of span by its natural key, so its row must merge them:
 * hooks carry session, prompt, tool_use and agent ids but no API request id; the transcript
 * carries all of them; the CLI's OTel events carry session.id, prompt.id, request_id and
 * tool_use_id (agent_id, but not the Agent tool use that spawned it).
 */
const PATHS_BY_KIND: Record<AgentSpanKind, CapturePath[]> = {
  session: ['hooks', 'transcript', 'otel'],
  prompt: ['hooks', 'transcript', 'otel'],
  model_call: ['transcript', 'otel'],
  tool_call: ['hooks', 'transcript', 'otel'],
  subagent: ['hooks', 'transcript'],
};

interface SessionRun {
  scenario: Scenario;
  runs: ClaudeRun[];
  expected: ExpectedSession;
}

interface SpanRow extends SpanWrite {
  model: string;
  cacheCreation: string;
  team: string;
}

const sessions = new Map<string, SessionRun>();
const label = (scenario: Scenario, protocol: OtlpProtocol) => `${scenario.name} over ${protocol}`;
let root: string;
let model: ScriptedModel | undefined;
let agentotel: AgentotelRun | undefined;
const rowCache = new Map<string, Promise<SpanRow[]>>();

async function runSession(m: ScriptedModel, home: string, scenario: Scenario, protocol: OtlpProtocol): Promise<void> {
  const name = label(scenario, protocol);
  const projectDir = path.join(root, 'projects', name.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(projectDir, { recursive: true });
  for (const [file, content] of Object.entries(scenario.files)) writeFileSync(path.join(projectDir, file), content);
  const script = scenario.script(projectDir, TOOL_ID_TAG[protocol]);
  m.load(script);
  const runs: ClaudeRun[] = [];
  for (const run of scenario.runs) {
    const resume = run.resume ? ['--resume', runs[0]!.result.session_id] : [];
    runs.push(
      await runClaude({
        home,
        cwd: projectDir,
        baseUrl: m.url,
        prompt: run.prompt,
        args: [...resume, '--allowedTools', scenario.allowedTools],
      }),
    );
  }
  const sessionId = runs[0]!.result.session_id;
  const artifacts = readSessionArtifacts(home, projectDir, sessionId);
  sessions.set(name, { scenario, runs, expected: expectedSession(name, protocol, sessionId, script, m.exchanges(), artifacts) });
}

const spanCount = (e: ExpectedSession) => 1 + e.prompts.length + e.modelCalls.length + e.toolCalls.length + e.subagents.length;

beforeAll(async () => {
  claudeBinary(); // fails here, saying why, when the CLI cannot run
  root = tempDir('e2e-claude-code');
  const home = path.join(root, 'home');
  const projectsDir = path.join(home, '.claude', 'projects');
  mkdirSync(projectsDir, { recursive: true });
  model = await startScriptedModel();
  agentotel = await runAgentotel(root, [{ agent: 'claude-code', root: projectsDir }], 60_000, async (a) => {
    for (const protocol of PROTOCOLS) {
      await wireAgent({
        agent: 'claude-code',
        home,
        settings: path.join(home, '.claude', 'settings.json'),
        otlpEndpoint: `http://${protocol === 'grpc' ? a.otlpGrpc : a.otlpHttp}`,
        hooksEndpoint: `http://${a.hooks}`,
        token: E2E_TOKEN,
        protocol,
        team: TEAM,
        user: USER,
      });
      for (const scenario of SCENARIOS) await runSession(model!, home, scenario, protocol);
    }
    return [...sessions.values()].reduce((n, s) => n + spanCount(s.expected), 0);
  });
}, 300_000);

afterAll(async () => {
  await model?.close();
  await agentotel?.client.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function session(name: string): ExpectedSession {
  const s = sessions.get(name);
  if (!s) throw new Error(`session "${name}" did not run (see the first failure)`);
  return s.expected;
}

/** Every write of the session's trace's spans. */
function writes(e: ExpectedSession): Promise<SpanRow[]> {
  let rows = rowCache.get(e.traceId);
  if (!rows) {
    rows = spanWrites<SpanRow>(agentotel!.client, e.traceId, [
      `if(${spanAttr('gen_ai.response.model')} != '', ${spanAttr('gen_ai.response.model')}, ${spanAttr('gen_ai.request.model')}) AS model`,
      `${spanAttr('gen_ai.usage.cache_creation.input_tokens')} AS cacheCreation`,
      `${spanAttr('agentotel.team')} AS team`,
    ]);
    rowCache.set(e.traceId, rows);
  }
  return rows;
}

const spans = async (e: ExpectedSession): Promise<SpanRow[]> => latestWrites(await writes(e));

const id = (e: ExpectedSession, kind: AgentSpanKind, key: string) => agentSpanId(e.traceId, { kind, key });

/** Span id → what it is ("tool_call toolu_…"), to name spans in failure messages. */
function names(e: ExpectedSession): Map<string, string> {
  const m = new Map<string, string>([[id(e, 'session', e.sessionId), `session ${e.sessionId}`]]);
  for (const p of e.prompts) m.set(id(e, 'prompt', p.promptId), `prompt ${p.promptId}`);
  for (const c of e.modelCalls) m.set(id(e, 'model_call', c.requestId), `model_call ${c.requestId}`);
  for (const t of e.toolCalls) m.set(id(e, 'tool_call', t.toolUseId), `tool_call ${t.toolUseId} (${t.name})`);
  for (const s of e.subagents) m.set(id(e, 'subagent', s.agentId), `subagent ${s.agentId}`);
  return m;
}

describe('Claude Code CLI end to end', () => {
  it('runs every scenario against the scripted model, and agentotel stops cleanly', () => {
    expect([...sessions.keys()]).toEqual(PROTOCOLS.flatMap((p) => SCENARIOS.map((s) => label(s, p))));
    expect(model!.unexpected()).toEqual([]);
    for (const [name, { scenario, runs, expected: e }] of sessions) {
      for (const r of runs)
        expect({ name, exit: r.exitCode, subtype: r.result.subtype, isError: r.result.is_error }).toEqual({
          name,
          exit: 0,
          subtype: 'success',
          isError: false,
        });
      // --resume keeps the session.
      expect(runs.map((r) => r.result.session_id)).toEqual(runs.map(() => e.sessionId));
      expect(e.prompts.map((p) => p.text)).toEqual(scenario.runs.map((r) => r.prompt));
      const failing = scenario.failingTools(TOOL_ID_TAG[e.protocol]);
      expect(e.toolCalls.filter((t) => t.isError).map((t) => t.toolUseId)).toEqual(failing);
      // The CLI's own accounting (cumulative over a resumed session) agrees with the script.
      const cli = runs.at(-1)!.result.modelUsage ?? {};
      const cliTotals = Object.fromEntries(
        Object.entries(cli).map(([m, u]) => [
          m,
          { input: u.inputTokens, output: u.outputTokens, cacheRead: u.cacheReadInputTokens, cacheCreation: u.cacheCreationInputTokens },
        ]),
      );
      expect(cliTotals, name).toEqual(tokensByModel(e.modelCalls));
      const agentTools = e.toolCalls.filter((t) => t.name === 'Agent').map((t) => t.toolUseId);
      expect(e.subagents.map((s) => s.toolUseId)).toEqual(agentTools);
    }
    expect(agentotel!.exitCode, agentotel!.output.slice(-4_000)).toBe(0);
  });

  for (const protocol of PROTOCOLS) {
    for (const scenario of SCENARIOS) {
      const name = label(scenario, protocol);
      describe(name, () => {
        it('is one trace: every span of the session has the trace id of hash(claude-code, session id)', async () => {
          const e = session(name);
          const rows = await queryRows<{ TraceId: string }>(
            agentotel!.client,
            `SELECT DISTINCT TraceId FROM agentotel.otel_traces
             WHERE SpanAttributes['gen_ai.conversation.id'] = {s:String} OR SpanAttributes['session.id'] = {s:String}
                OR ResourceAttributes['session.id'] = {s:String}`,
            { s: e.sessionId },
          );
          expect(rows.map((r) => r.TraceId)).toEqual([e.traceId]);
        });

        it('has no duplicate spans: a span written again carries the next version', async () => {
          const e = session(name);
          const rows = await writes(e);
          const versions = new Map<string, number[]>();
          for (const r of rows) versions.set(r.SpanId, [...(versions.get(r.SpanId) ?? []), Number(r.version)]);
          const n = names(e);
          const duplicated = [...versions]
            .map(([spanId, v]) => [spanId, v.sort((a, b) => a - b)] as const)
            .filter(([, v]) => v.some((version, i) => version !== i + 1))
            .map(([spanId, v]) => `${n.get(spanId) ?? spanId} written as versions ${v.join(',')}`);
          expect(rows.length).toBeGreaterThan(0);
          expect(duplicated).toEqual([]);
        });

        it('has one root, the session span, and every other span has its parent in the trace', async () => {
          const e = session(name);
          const rows = await spans(e);
          const present = new Set(rows.map((r) => r.SpanId));
          expect(rows.filter((r) => r.ParentSpanId === '').map((r) => r.SpanId)).toEqual([id(e, 'session', e.sessionId)]);
          const orphans = rows
            .filter((r) => r.ParentSpanId !== '' && !present.has(r.ParentSpanId))
            .map((r) => `${r.SpanName} (${r.SpanId}) → ${r.ParentSpanId}`);
          expect(orphans).toEqual([]);
        });

        it('has exactly one span per prompt, model call, tool call and subagent, with the natural-key ids', async () => {
          const e = session(name);
          const rows = await spans(e);
          const byKind = (kind: string) =>
            rows
              .filter((r) => r.kind === kind)
              .map((r) => r.SpanId)
              .sort();
          const keys: Record<AgentSpanKind, string[]> = {
            session: [e.sessionId],
            prompt: e.prompts.map((p) => p.promptId),
            model_call: e.modelCalls.map((c) => c.requestId),
            tool_call: e.toolCalls.map((t) => t.toolUseId),
            subagent: e.subagents.map((s) => s.agentId),
          };
          const kinds = Object.keys(keys) as AgentSpanKind[];
          expect({
            ...Object.fromEntries(kinds.map((kind) => [kind, byKind(kind)])),
            other: rows.filter((r) => !(r.kind in PATHS_BY_KIND)).map((r) => `${r.SpanName} kind=${r.kind || '(none)'}`),
          }).toEqual({
            ...Object.fromEntries(kinds.map((kind) => [kind, keys[kind].map((k) => id(e, kind, k)).sort()])),
            other: [],
          });
        });

        it('nests prompts under the session, calls under their prompt, a subagent under its Agent tool call and its calls under it', async () => {
          const e = session(name);
          const parentOf = new Map((await spans(e)).map((r) => [r.SpanId, r.ParentSpanId]));
          const n = names(e);
          const ancestors = (spanId: string): string[] => {
            const out: string[] = [];
            for (let p = parentOf.get(spanId); p && out.length < 10; p = parentOf.get(p)) out.push(n.get(p) ?? p);
            return out;
          };
          const promptOf = new Map(e.prompts.map((p) => [p.text, id(e, 'prompt', p.promptId)]));
          const subagentOf = new Map(e.subagents.map((s) => [s.thread, n.get(id(e, 'subagent', s.agentId))!]));
          const wrong: string[] = [];
          const check = (spanId: string, ok: boolean, want: string) => {
            if (!ok) wrong.push(`${n.get(spanId)}: want ${want}, has ancestors [${ancestors(spanId).join(' → ')}]`);
          };
          const sessionSpan = id(e, 'session', e.sessionId);
          for (const p of e.prompts)
            check(id(e, 'prompt', p.promptId), parentOf.get(id(e, 'prompt', p.promptId)) === sessionSpan, 'parent session');
          const calls = [
            ...e.modelCalls.map((c) => ({ spanId: id(e, 'model_call', c.requestId), thread: c.thread })),
            ...e.toolCalls.map((t) => ({ spanId: id(e, 'tool_call', t.toolUseId), thread: t.thread })),
          ];
          for (const { spanId, thread } of calls) {
            const prompt = promptOf.get(thread);
            if (prompt) check(spanId, parentOf.get(spanId) === prompt, `parent ${n.get(prompt)}`);
            else check(spanId, ancestors(spanId).includes(subagentOf.get(thread)!), `ancestor ${subagentOf.get(thread)}`);
          }
          for (const s of e.subagents) {
            const spanId = id(e, 'subagent', s.agentId);
            check(spanId, parentOf.get(spanId) === id(e, 'tool_call', s.toolUseId), `parent tool_call ${s.toolUseId}`);
          }
          expect(wrong).toEqual([]);
        });

        it('marks the tool calls that failed as errors, and only those', async () => {
          const e = session(name);
          const status = new Map((await spans(e)).map((r) => [r.SpanId, r.StatusCode]));
          const got = e.toolCalls.map((t) => `${t.toolUseId} ${status.get(id(e, 'tool_call', t.toolUseId)) === 'Error' ? 'error' : 'ok'}`);
          expect(got).toEqual(e.toolCalls.map((t) => `${t.toolUseId} ${t.isError ? 'error' : 'ok'}`));
        });

        it('carries the scripted tokens per model on the model call spans', async () => {
          const e = session(name);
          const got: Record<string, TokenTotals> = {};
          for (const r of (await spans(e)).filter((s) => s.kind === 'model_call')) {
            const t = (got[r.model || '(no model)'] ??= { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 });
            // gen_ai.usage.input_tokens includes cache reads and writes (DESIGN.md): back to the API's terms.
            t.input += Number(r.input) - Number(r.cacheRead) - Number(r.cacheCreation);
            t.output += Number(r.output);
            t.cacheRead += Number(r.cacheRead);
            t.cacheCreation += Number(r.cacheCreation);
          }
          expect(got).toEqual(tokensByModel(e.modelCalls));
        });

        it('merges into each span the views of every capture path that knows it', async () => {
          const e = session(name);
          const n = names(e);
          const missing = (await spans(e)).flatMap((r) => {
            const want = PATHS_BY_KIND[r.kind as AgentSpanKind] ?? [];
            const has = new Set(r.paths.split(','));
            const lacking = want.filter((p) => !has.has(p));
            return lacking.length ? [`${n.get(r.SpanId) ?? r.SpanId} has "${r.paths}", lacks ${lacking.join(',')}`] : [];
          });
          expect(missing).toEqual([]);
        });

        it('attributes every span to the team init configured', async () => {
          const e = session(name);
          const n = names(e);
          const other = (await spans(e)).filter((r) => r.team !== TEAM).map((r) => `${n.get(r.SpanId) ?? r.SpanId}: ${r.team || '(none)'}`);
          expect(other).toEqual([]);
        });
      });
    }
  }
});
