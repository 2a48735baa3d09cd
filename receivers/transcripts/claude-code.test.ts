/**
 * The Claude Code transcript parser against every real transcript in the fixtures: the views
 * must tell exactly the facts of each scenario's facts.json (the capture tooling's oracle).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionCapture, SpanView } from '../../core/agent/session-spans.ts';
import { fixturesDir } from '../../test/helpers/fixtures.ts';
import { claudeCodeFormat, TranscriptAttr } from './claude-code.ts';
import { coalesce } from './coalesce.ts';

interface Facts {
  session_ids: string[];
  prompts: { count: number; items: { prompt_id: string; prompt: string }[] };
  tool_calls: { count: number; failed: number; items: { tool_use_id: string; name: string; outcome: 'success' | 'error' }[] };
  transcript_usage_dedup_by_message_id: Record<
    string,
    { messages: number; input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number }
  >;
  cost: { transcript_cost_state_total_usd: number };
  transcripts: { files: string[]; record_types: Record<string, number> };
}

const scenarioRoot = path.join(fixturesDir, 'claude-code');
const scenarios = readdirSync(scenarioRoot).filter((d) => readdirSync(path.join(scenarioRoot, d)).includes('facts.json'));

function jsonlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => path.join(dir, f));
}

function parseFile(file: string, lines = readFileSync(file, 'utf8').split('\n')) {
  const parser = claudeCodeFormat.createParser(file);
  const captures: SessionCapture[] = lines.flatMap((l) => parser.parseLine(l));
  return { parser, captures };
}

const viewsOf = (captures: SessionCapture[], kind: string): SpanView[] =>
  coalesce(captures).flatMap((c) => c.views.filter((v) => v.ref.kind === kind));
const attr = (v: SpanView | undefined, key: string) => v?.attributes?.[key];

describe.each(scenarios)('Claude Code transcript of fixture %s', (scenario) => {
  const dir = path.join(scenarioRoot, scenario);
  const facts = JSON.parse(readFileSync(path.join(dir, 'facts.json'), 'utf8')) as Facts;
  const files = jsonlFiles(path.join(dir, 'transcripts'));
  const parsed = files.map((f) => parseFile(f));
  const captures = parsed.flatMap((p) => p.captures);
  const find = (kind: string, key: string) => viewsOf(captures, kind).find((v) => v.ref.key === key);

  it('names the scenario session, with its times, cwd, version and the agent cost', () => {
    expect(facts.transcripts.files.map((f) => path.join(dir, f)).sort()).toEqual(files.sort());
    expect([...new Set(captures.map((c) => c.sessionId))]).toEqual(facts.session_ids);
    expect(captures.every((c) => c.agent === 'claude-code' && c.path === 'transcript')).toBe(true);
    const [session, ...more] = viewsOf(captures, 'session');
    expect(more).toEqual([]);
    expect(session!.name).toBe('invoke_agent claude-code');
    expect(attr(session, TranscriptAttr.agentCostUsd)).toBe(facts.cost.transcript_cost_state_total_usd);
    expect(attr(session, 'gen_ai.agent.version')).toBe('2.1.328');
    expect(attr(session, TranscriptAttr.cwd)).toMatch(/^\/home\/dev\/projects\//);
    expect(attr(session, TranscriptAttr.gitBranch)).toBe('main');
    // The session spans every record with a timestamp.
    const times = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { timestamp?: string }).timestamp)
        .filter((t): t is string => !!t)
        .map((t) => BigInt(Date.parse(t)) * 1_000_000n),
    );
    expect(session!.startNs).toBe(times.reduce((a, b) => (a < b ? a : b)));
    expect(session!.endNs).toBe(times.reduce((a, b) => (a > b ? a : b)));
  });

  it('has one prompt span per prompt, with its text, under the session', () => {
    const prompts = viewsOf(captures, 'prompt');
    expect(prompts.map((p) => p.ref.key).sort()).toEqual(facts.prompts.items.map((p) => p.prompt_id).sort());
    for (const item of facts.prompts.items) {
      const p = find('prompt', item.prompt_id)!;
      expect(JSON.parse(attr(p, 'gen_ai.input.messages') as string)).toEqual([
        { role: 'user', parts: [{ type: 'text', content: item.prompt }] },
      ]);
      expect(p.parent).toEqual({ kind: 'session', key: facts.session_ids[0] });
      expect(p.startNs! <= p.endNs!).toBe(true);
    }
  });

  it('has one tool call span per tool_use, with its name, outcome and result, under its prompt', () => {
    const tools = viewsOf(captures, 'tool_call');
    expect(tools).toHaveLength(facts.tool_calls.count);
    expect(tools.filter((t) => t.error !== undefined)).toHaveLength(facts.tool_calls.failed);
    const promptIds = new Set(facts.prompts.items.map((p) => p.prompt_id));
    for (const item of facts.tool_calls.items) {
      const t = find('tool_call', item.tool_use_id)!;
      expect(t.name).toBe(`execute_tool ${item.name}`);
      expect(attr(t, 'gen_ai.tool.name')).toBe(item.name);
      expect(attr(t, 'gen_ai.tool.call.id')).toBe(item.tool_use_id);
      expect(attr(t, TranscriptAttr.toolOutcome)).toBe(item.outcome);
      expect(typeof attr(t, 'gen_ai.tool.call.arguments')).toBe('string');
      expect(typeof attr(t, 'gen_ai.tool.call.result')).toBe('string');
      expect(t.parent?.kind).toBe('prompt');
      expect(promptIds.has(t.parent!.key)).toBe(true);
      expect(t.startNs! <= t.endNs!).toBe(true);
    }
  });

  it('counts each model response once per message id (its several assistant records share one span), tokens per model as facts.json', () => {
    const calls = viewsOf(captures, 'model_call');
    const perModel: Record<string, Facts['transcript_usage_dedup_by_message_id'][string]> = {};
    for (const c of calls) {
      const model = attr(c, 'gen_ai.response.model') as string;
      const t = (perModel[model] ??= {
        messages: 0,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      });
      const cacheRead = attr(c, 'gen_ai.usage.cache_read.input_tokens') as number;
      const cacheCreation = attr(c, 'gen_ai.usage.cache_creation.input_tokens') as number;
      t.messages++;
      t.input_tokens += (attr(c, 'gen_ai.usage.input_tokens') as number) - cacheRead - cacheCreation;
      t.output_tokens += attr(c, 'gen_ai.usage.output_tokens') as number;
      t.cache_read_input_tokens += cacheRead;
      t.cache_creation_input_tokens += cacheCreation;
      expect(c.name).toBe(`chat ${model}`);
      expect(c.ref.key).toMatch(/^req_/);
      expect(attr(c, 'gen_ai.provider.name')).toBe('anthropic');
      expect(attr(c, 'gen_ai.request.model')).toBe(model);
      expect(attr(c, 'gen_ai.response.id')).toMatch(/^msg_/);
      expect(attr(c, 'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens')).toBe(0);
      expect(c.parent?.kind).toBe('prompt');
      expect(c.startNs! <= c.endNs!).toBe(true);
    }
    expect(perModel).toEqual(facts.transcript_usage_dedup_by_message_id);
  });

  it('keeps every content block of a response in its output messages', () => {
    for (const c of viewsOf(captures, 'model_call')) {
      const [message] = JSON.parse(attr(c, 'gen_ai.output.messages') as string) as { role: string; parts: { type: string }[] }[];
      expect(message!.role).toBe('assistant');
      expect(message!.parts.length).toBeGreaterThan(0);
    }
    const toolParts = viewsOf(captures, 'model_call').flatMap(
      (c) => (JSON.parse(attr(c, 'gen_ai.output.messages') as string) as { parts: { type: string; id?: string }[] }[])[0]!.parts,
    );
    expect(toolParts.filter((p) => p.type === 'tool_call').map((p) => p.id)).toEqual(facts.tool_calls.items.map((t) => t.tool_use_id));
  });

  it('skips and counts exactly the record types that carry nothing for a span', () => {
    const skipped = new Map<string, number>();
    for (const { parser } of parsed) for (const [reason, n] of parser.skipped) skipped.set(reason, (skipped.get(reason) ?? 0) + n);
    const used = new Set(['user', 'assistant', 'system', 'api-request', 'cost-state']);
    const expected = Object.entries(facts.transcripts.record_types)
      .filter(([type]) => !used.has(type))
      .map(([type, n]) => [`record type ${type}`, n]);
    expect(Object.fromEntries(skipped)).toEqual(Object.fromEntries(expected));
  });

  it('gives the same spans when a resumed transcript repeats the earlier lines', () => {
    const main = files.find((f) => !f.includes('/subagents/'))!;
    const lines = readFileSync(main, 'utf8').split('\n');
    const twice = parseFile(main, [...lines, ...lines]).captures;
    const summary = (cs: SessionCapture[]) =>
      coalesce(cs)
        .flatMap((c) => c.views)
        .map((v) => `${v.ref.kind}:${v.ref.key}:${v.name}:${String(attr(v, 'gen_ai.usage.output_tokens'))}`)
        .sort();
    expect(summary(twice)).toEqual(summary(parseFile(main).captures));
  });
});

// ── what the fixtures do not show: subagents, API retries, bad lines ─────────────────────────

const SESSION = '5b1f3a52-0000-4000-8000-000000000001';
const base = { sessionId: SESSION, cwd: '/home/dev/p', version: '2.1.328', gitBranch: 'main', isSidechain: false };
const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 10, 0, s)).toISOString();
const line = (o: Record<string, unknown>) => JSON.stringify(o);

function assistant(s: number, requestId: string, msgId: string, content: unknown[], extra: Record<string, unknown> = {}) {
  return line({
    ...base,
    ...extra,
    type: 'assistant',
    timestamp: at(s),
    uuid: `u-${s}`,
    requestId,
    message: {
      id: msgId,
      model: 'claude-opus-5-5',
      role: 'assistant',
      content,
      stop_reason: 'tool_use',
      usage: { input_tokens: 2, output_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 50 },
    },
  });
}

describe('Claude Code transcript: subagents, API retries and bad lines', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentotel-claude-'));
  const mainFile = path.join(dir, `${SESSION}.jsonl`);
  const subDir = path.join(dir, SESSION, 'subagents');
  mkdirSync(subDir, { recursive: true });
  const subFile = path.join(subDir, 'agent-a77.jsonl');
  writeFileSync(path.join(subDir, 'agent-a77.meta.json'), JSON.stringify({ agentType: 'Explore', spawnDepth: 1 }));

  const mainLines = [
    line({ ...base, type: 'user', promptId: 'p1', uuid: 'u-1', timestamp: at(1), message: { role: 'user', content: 'Explore the repo' } }),
    line({
      ...base,
      type: 'system',
      subtype: 'api_error',
      level: 'error',
      timestamp: at(2),
      retryAttempt: 1,
      maxRetries: 10,
      retryInMs: 512.4,
      error: { status: 529, message: 'overloaded' },
    }),
    assistant(3, 'req_1', 'msg_1', [
      { type: 'tool_use', id: 'toolu_agent', name: 'Agent', input: { subagent_type: 'Explore', prompt: 'Find the tests' } },
    ]),
    '{"type":"user","message":', // a broken line
    line({ ...base, type: 'brand-new-record', timestamp: at(4) }),
    line({
      ...base,
      type: 'user',
      promptId: 'p1',
      uuid: 'u-9',
      timestamp: at(9),
      toolUseResult: { status: 'completed', agentId: 'a77' },
      message: {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'toolu_agent', content: [{ type: 'text', text: 'Found 3 test files' }] }],
      },
    }),
  ];
  const sub = { ...base, isSidechain: true, agentId: 'a77' };
  const subLines = [
    line({ ...sub, type: 'user', uuid: 's-1', timestamp: at(4), message: { role: 'user', content: 'Find the tests' } }),
    assistant(5, 'req_s1', 'msg_s1', [{ type: 'tool_use', id: 'toolu_glob', name: 'Glob', input: { pattern: '**/*.test.js' } }], sub),
    line({
      ...sub,
      type: 'user',
      uuid: 's-3',
      timestamp: at(6),
      message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_glob', content: 'a.test.js', is_error: false }] },
    }),
    assistant(7, 'req_s2', 'msg_s2', [{ type: 'text', text: 'Found 3 test files' }], sub),
  ];
  writeFileSync(mainFile, mainLines.join('\n') + '\n');
  writeFileSync(subFile, subLines.join('\n') + '\n');
  const main = parseFile(mainFile);
  const subagent = parseFile(subFile);
  const all = [...main.captures, ...subagent.captures];
  const find = (kind: string, key: string) => viewsOf(all, kind).find((v) => v.ref.key === key);

  it('makes the subagent a child invoke_agent span of the Agent tool call, with its own model and tool calls', () => {
    const views = viewsOf(all, 'subagent');
    expect(views).toHaveLength(1);
    const s = views[0]!;
    expect(s.ref.key).toBe('a77');
    expect(s.name).toBe('invoke_agent Explore');
    expect(s.parent).toEqual({ kind: 'tool_call', key: 'toolu_agent' });
    expect(attr(s, 'gen_ai.agent.name')).toBe('Explore');
    expect(find('model_call', 'req_s1')!.parent).toEqual({ kind: 'subagent', key: 'a77' });
    expect(find('model_call', 'req_s2')!.parent).toEqual({ kind: 'subagent', key: 'a77' });
    expect(find('tool_call', 'toolu_glob')).toMatchObject({ name: 'execute_tool Glob', parent: { kind: 'subagent', key: 'a77' } });
    expect(attr(find('tool_call', 'toolu_agent'), 'gen_ai.tool.call.result')).toBe('Found 3 test files');
    // Everything is in the parent session's trace, and the subagent's own transcript adds no prompt or session span.
    expect(subagent.captures.every((c) => c.sessionId === SESSION)).toBe(true);
    expect(viewsOf(subagent.captures, 'session')).toEqual([]);
    expect(viewsOf(subagent.captures, 'prompt')).toEqual([]);
    // Its own transcript alone knows its task and times.
    const own = viewsOf(subagent.captures, 'subagent')[0]!;
    expect(JSON.parse(attr(own, 'gen_ai.input.messages') as string)[0].parts[0].content).toBe('Find the tests');
    expect(own.startNs).toBe(BigInt(Date.parse(at(4))) * 1_000_000n);
    expect(own.endNs).toBe(BigInt(Date.parse(at(7))) * 1_000_000n);
  });

  it('records a retried API error as an event on the prompt', () => {
    const prompt = find('prompt', 'p1')!;
    expect(prompt.events).toEqual([
      {
        name: 'api_error',
        timeNs: BigInt(Date.parse(at(2))) * 1_000_000n,
        attributes: {
          'error.type': '529',
          'error.message': 'overloaded',
          [TranscriptAttr.retryAttempt]: 1,
          [TranscriptAttr.retryMax]: 10,
          [TranscriptAttr.retryDelayMs]: 512,
          'agentotel.retry.final': false,
        },
      },
    ]);
    expect(prompt.error).toBeUndefined();
  });

  it('marks the prompt failed when retries ran out', () => {
    const file = path.join(dir, 'exhausted.jsonl');
    const { captures } = parseFile(file, [
      mainLines[0]!,
      line({
        ...base,
        type: 'assistant',
        timestamp: at(5),
        isApiErrorMessage: true,
        message: { id: 'x', model: '<synthetic>', role: 'assistant', content: [{ type: 'text', text: 'API Error: 529 overloaded' }] },
      }),
    ]);
    const prompt = viewsOf(captures, 'prompt')[0]!;
    expect(prompt.error).toBe('API Error: 529 overloaded');
    expect(prompt.events?.[0]).toMatchObject({ name: 'api_error', attributes: { 'agentotel.retry.final': true } });
    expect(viewsOf(captures, 'model_call')).toEqual([]);
  });

  it('skips a broken line and an unknown record type, counted by reason, and goes on', () => {
    expect(Object.fromEntries(main.parser.skipped)).toEqual({ 'broken JSON': 1, 'unknown record type brand-new-record': 1 });
    expect(find('tool_call', 'toolu_agent')!.endNs).toBe(BigInt(Date.parse(at(9))) * 1_000_000n);
  });
});
