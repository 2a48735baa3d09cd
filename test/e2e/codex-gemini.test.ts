/**
 * Opt-in: the real Codex and Gemini CLIs end to end. Each runs headless once, as its fixture's
 * MANIFEST describes (`codex exec`, `gemini -p`), against scripted model APIs
 * (agent-cli-models.ts), wired to a running agentotel by `agentotel init` (command hooks, OTLP
 * logs); the transcripts receiver tails their HOME. The scripted model runs a shell command that
 * fails (exit 1), which both CLIs report as a successful tool call. When agentotel has stopped,
 * the rows in ClickHouse must tell each session exactly: one trace named after the session id,
 * one span per prompt, model call and tool call with the natural-key ids of docs/agent-sessions.md,
 * merged from the capture paths that know it, the scripted tokens per model, the failed command
 * as an error with its exit code, every parent present.
 *
 * The CLIs are large (≈500 MB) and not dependencies: install them anywhere and point at them:
 *
 *   npm install --prefix /tmp/agent-clis @openai/codex@0.169.0 @google/gemini-cli@0.61.0
 *   AGENTOTEL_E2E_AGENT_CLIS=/tmp/agent-clis npx vitest run test/e2e/codex-gemini.test.ts
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codexModelCallKey } from '../../core/agent/codex.ts';
import { geminiModelCallKey } from '../../core/agent/gemini.ts';
import { agentSpanId, sessionTraceId, type AgentName, type AgentSpanKind, type CapturePath } from '../../core/agent/session-spans.ts';
import { tempDir } from '../helpers/pipeline.ts';
import { runProcess, type ProcessRun } from '../helpers/processes.ts';
import {
  E2E_TOKEN,
  latestWrites,
  runAgentotel,
  spanAttr,
  spanWrites,
  type AgentotelRun,
  type AgentotelUnderTest,
  type SpanWrite,
} from './agentotel-under-test.ts';
import { ROUTER_USAGE, startAgentModels, type AgentModels, type CodexStep, type GeminiStep } from './agent-cli-models.ts';
import { wireAgent } from './wiring.ts';

const CLI_PREFIX = process.env.AGENTOTEL_E2E_AGENT_CLIS;
const PROMPT = 'Is there a notes.txt in this project? Use the shell to check.';
const COMMAND = 'test -e notes.txt';
const ANSWER = 'There is no notes.txt in this project.';
const CODEX_CALL_ID = 'call_e2e_test_01';

const CODEX_STEPS: CodexStep[] = [
  {
    reasoning: 'Check for the file with test -e.',
    text: "I'll check for notes.txt.",
    call: { callId: CODEX_CALL_ID, name: 'exec_command', arguments: { cmd: COMMAND } },
    usage: { input: 3120, cached: 0, output: 44, reasoning: 12 },
  },
  { text: ANSWER, usage: { input: 3290, cached: 3008, output: 15, reasoning: 0 } },
];

const GEMINI_STEPS: GeminiStep[] = [
  {
    thought: '**Checking**\n\ntest -e tells.',
    text: "I'll check for notes.txt.",
    call: { name: 'run_shell_command', args: { command: COMMAND, description: 'Check for notes.txt' } },
    usage: { prompt: 4150, candidates: 31, cached: 0, thoughts: 9 },
  },
  { text: ANSWER, usage: { prompt: 4340, candidates: 12, cached: 4096, thoughts: 0 } },
];

interface SpanRow extends SpanWrite {
  model: string;
  reasoning: string;
  exitCode: string;
}

interface ExpectedSpan {
  kind: AgentSpanKind;
  key: string;
  paths: CapturePath[];
  tokens?: { model: string; input: number; output: number; cacheRead: number; reasoning: number };
  exitCode?: number;
}

let root: string;
let home: string;
let project: string;
let models: AgentModels | undefined;
let agentotel: AgentotelRun | undefined;
const runs = new Map<AgentName, ProcessRun>();

/** `agentotel init` for one agent, as a user runs it (OTLP/HTTP JSON, command hooks). */
const init = (agent: AgentName, settings: string, a: AgentotelUnderTest) =>
  wireAgent({
    agent,
    home,
    settings,
    otlpEndpoint: `http://${a.otlpHttp}`,
    hooksEndpoint: `http://${a.hooks}`,
    token: E2E_TOKEN,
    protocol: 'http/json',
  });

/** A CLI in a clean environment (as the fixtures were captured: env -i, its own HOME). */
const runCli = (bin: string, args: string[], env: Record<string, string>) =>
  runProcess(path.join(CLI_PREFIX!, 'node_modules', '.bin', bin), args, {
    cwd: project,
    env: { HOME: home, PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, LANG: 'C.UTF-8', ...env },
    timeout: 180_000,
  });

async function runCodex(a: AgentotelUnderTest, modelsUrl: string): Promise<void> {
  const config = path.join(home, '.codex', 'config.toml');
  mkdirSync(path.dirname(config), { recursive: true });
  writeFileSync(
    config,
    [
      'model = "gpt-5.5"',
      'model_provider = "scripted"',
      '[model_providers.scripted]',
      'name = "Scripted model (agentotel e2e)"',
      `base_url = "${modelsUrl}/v1"`,
      'env_key = "SCRIPTED_OPENAI_API_KEY"',
      'wire_api = "responses"',
      '[features]',
      'hooks = true',
      '',
    ].join('\n'),
  );
  await init('codex', config, a);
  const args = ['exec', '--dangerously-bypass-hook-trust', '--json', '--sandbox', 'danger-full-access', PROMPT];
  runs.set('codex', await runCli('codex', args, { SCRIPTED_OPENAI_API_KEY: 'sk-scripted-e2e' }));
}

async function runGemini(a: AgentotelUnderTest, modelsUrl: string): Promise<void> {
  const settings = path.join(home, '.gemini', 'settings.json');
  mkdirSync(path.dirname(settings), { recursive: true });
  const preset = {
    security: { auth: { selectedType: 'gemini-api-key' }, folderTrust: { enabled: false } },
    privacy: { usageStatisticsEnabled: false },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
  };
  writeFileSync(settings, JSON.stringify(preset, null, 2));
  await init('gemini-cli', settings, a);
  const args = ['--approval-mode', 'yolo', '--output-format', 'stream-json', '-p', PROMPT];
  runs.set('gemini-cli', await runCli('gemini', args, { GEMINI_API_KEY: 'scripted-e2e-key', GOOGLE_GEMINI_BASE_URL: modelsUrl }));
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

function sessionIdOf(agent: AgentName): string {
  const events = jsonLines(runs.get(agent)?.stdout ?? '');
  const id =
    agent === 'codex' ? events.find((e) => e.type === 'thread.started')?.thread_id : events.find((e) => e.type === 'init')?.session_id;
  if (typeof id !== 'string') throw new Error(`${agent} printed no session id (see the first test)`);
  return id;
}

/** The turn id of the Codex run, from its rollout transcript. */
function codexTurnId(): string {
  const dir = path.join(home, '.codex', 'sessions');
  const file = readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.jsonl'));
  const started = jsonLines(readFileSync(path.join(dir, file!), 'utf8')).find(
    (r) => (r.payload as { type?: string }).type === 'task_started',
  );
  return (started!.payload as { turn_id: string }).turn_id;
}

/** The model the Gemini CLI routed its main turns to: the path of its streamGenerateContent requests. */
function geminiModels(): { main: string; router: string } {
  const model = (method: string) =>
    models!
      .requests()
      .find((r) => r.path.endsWith(`:${method}`))
      ?.path.split('/')
      .at(-1)!
      .split(':')[0];
  return { main: model('streamGenerateContent')!, router: model('generateContent')! };
}

function expectedSpans(agent: AgentName): ExpectedSpan[] {
  const sessionId = sessionIdOf(agent);
  if (agent === 'codex') {
    return [
      { kind: 'session', key: sessionId, paths: ['hooks', 'otel', 'transcript'] },
      // init wires no trace exporter for Codex: its log records cannot name the turn.
      { kind: 'prompt', key: codexTurnId(), paths: ['hooks', 'transcript'] },
      { kind: 'tool_call', key: CODEX_CALL_ID, paths: ['hooks', 'otel', 'transcript'], exitCode: 1 },
      ...CODEX_STEPS.map((s) => ({
        kind: 'model_call' as const,
        key: codexModelCallKey(s.usage),
        paths: ['otel', 'transcript'] as CapturePath[],
        tokens: { model: 'gpt-5.5', input: s.usage.input, output: s.usage.output, cacheRead: s.usage.cached, reasoning: s.usage.reasoning },
      })),
    ];
  }
  const toolId = jsonLines(runs.get(agent)!.stdout).find((e) => e.type === 'tool_use')?.tool_id as string;
  const { main, router } = geminiModels();
  return [
    { kind: 'session', key: sessionId, paths: ['hooks', 'otel', 'transcript'] },
    // A non-interactive run's prompt_id is its session id; only OTel carries it.
    { kind: 'prompt', key: sessionId, paths: ['otel'] },
    { kind: 'tool_call', key: toolId, paths: ['otel', 'transcript'], exitCode: 1 },
    {
      kind: 'model_call',
      key: geminiModelCallKey(router, ROUTER_USAGE.prompt, ROUTER_USAGE.candidates),
      paths: ['otel'],
      tokens: { model: router, input: ROUTER_USAGE.prompt, output: ROUTER_USAGE.candidates, cacheRead: 0, reasoning: 0 },
    },
    // init wires no AfterModel hook (it fires for every streamed chunk).
    ...GEMINI_STEPS.map((s) => ({
      kind: 'model_call' as const,
      key: geminiModelCallKey(main, s.usage.prompt, s.usage.candidates),
      paths: ['otel', 'transcript'] as CapturePath[],
      tokens: {
        model: main,
        input: s.usage.prompt,
        output: s.usage.candidates + s.usage.thoughts,
        cacheRead: s.usage.cached,
        reasoning: s.usage.thoughts,
      },
    })),
  ];
}

/** The latest write of each span of the agent's session trace. */
async function spans(agent: AgentName): Promise<SpanRow[]> {
  const rows = await spanWrites<SpanRow>(agentotel!.client, sessionTraceId(agent, sessionIdOf(agent)), [
    `${spanAttr('gen_ai.request.model')} AS model`,
    `${spanAttr('gen_ai.usage.reasoning.output_tokens')} AS reasoning`,
    `${spanAttr('agentotel.tool.exit_code')} AS exitCode`,
  ]);
  return latestWrites(rows);
}

beforeAll(async () => {
  if (!CLI_PREFIX) return;
  for (const bin of ['codex', 'gemini'])
    if (!existsSync(path.join(CLI_PREFIX, 'node_modules', '.bin', bin)))
      throw new Error(`${CLI_PREFIX}: no ${bin} CLI installed there (see this file's header)`);
  root = tempDir('e2e-codex-gemini');
  home = path.join(root, 'home');
  project = path.join(root, 'projects', 'todo-api');
  mkdirSync(project, { recursive: true });
  writeFileSync(path.join(project, 'README.md'), '# todo-api\n');
  const git = (...args: string[]) =>
    promisify(execFile)('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { cwd: project });
  await git('init', '-q');
  await git('add', '.');
  await git('commit', '-qm', 'Initial commit');
  models = await startAgentModels({ codex: CODEX_STEPS, gemini: GEMINI_STEPS });
  const sources = [
    { agent: 'codex' as const, root: path.join(home, '.codex', 'sessions') },
    { agent: 'gemini-cli' as const, root: path.join(home, '.gemini', 'tmp') },
  ];
  agentotel = await runAgentotel(root, sources, 90_000, async (a) => {
    await runCodex(a, models!.url);
    await runGemini(a, models!.url);
    return (['codex', 'gemini-cli'] as const).reduce(
      (n, agent) => n + (runs.get(agent)?.exitCode === 0 ? expectedSpans(agent).length : 0),
      0,
    );
  });
}, 600_000);

afterAll(async () => {
  await models?.close();
  await agentotel?.client.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!CLI_PREFIX)('Codex and Gemini CLIs end to end', () => {
  it('runs both CLIs against the scripted models, and agentotel stops cleanly', () => {
    for (const agent of ['codex', 'gemini-cli'] as const) {
      const run = runs.get(agent);
      expect({ agent, exit: run?.exitCode }, run?.stderr.slice(-2_000)).toEqual({ agent, exit: 0 });
    }
    const main = models!.requests().filter((r) => r.step !== undefined);
    expect(main.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(agentotel!.exitCode, agentotel!.output.slice(-4_000)).toBe(0);
  });

  describe.each(['codex', 'gemini-cli'] as const)('%s', (agent) => {
    it('is one trace with one span per session, prompt, model call and tool call, by the natural keys', async () => {
      const traceId = sessionTraceId(agent, sessionIdOf(agent));
      const got = (await spans(agent)).map((r) => r.SpanId).sort();
      expect(got).toEqual(
        expectedSpans(agent)
          .map((e) => agentSpanId(traceId, e))
          .sort(),
      );
    });

    it('has one root, the session span, and every parent present', async () => {
      const rows = await spans(agent);
      const present = new Set(rows.map((r) => r.SpanId));
      expect(rows.filter((r) => r.ParentSpanId === '').map((r) => r.kind)).toEqual(['session']);
      expect(rows.filter((r) => r.ParentSpanId !== '' && !present.has(r.ParentSpanId)).map((r) => r.kind)).toEqual([]);
    });

    it('merges into each span the views of every capture path that knows it', async () => {
      const traceId = sessionTraceId(agent, sessionIdOf(agent));
      const byId = new Map((await spans(agent)).map((r) => [r.SpanId, r]));
      const got = expectedSpans(agent).map((e) => `${e.kind} ${e.key}: ${byId.get(agentSpanId(traceId, e))?.paths}`);
      expect(got).toEqual(expectedSpans(agent).map((e) => `${e.kind} ${e.key}: ${[...e.paths].sort().join(',')}`));
    });

    it('carries the scripted tokens on each model call, and the failed command as an error with its exit code', async () => {
      const traceId = sessionTraceId(agent, sessionIdOf(agent));
      const byId = new Map((await spans(agent)).map((r) => [r.SpanId, r]));
      for (const e of expectedSpans(agent)) {
        const row = byId.get(agentSpanId(traceId, e));
        if (e.tokens) {
          const got = {
            model: row?.model,
            input: Number(row?.input),
            output: Number(row?.output),
            cacheRead: Number(row?.cacheRead),
            reasoning: Number(row?.reasoning),
          };
          expect(got, `${e.kind} ${e.key}`).toEqual(e.tokens);
        }
        if (e.exitCode !== undefined)
          expect({ status: row?.StatusCode, exitCode: row?.exitCode }).toEqual({ status: 'Error', exitCode: String(e.exitCode) });
      }
    });
  });
});
