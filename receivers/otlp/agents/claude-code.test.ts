/**
 * Claude Code's native telemetry as session views, driven by every Claude Code fixture's
 * captured OTLP requests (HTTP/JSON, HTTP/protobuf and gRPC) and checked against its
 * facts.json; the cases the captures do not contain are built from the attributes Claude Code
 * documents (reference/otel-anchors.md §7).
 */
import { describe, expect, it } from 'vitest';
import { capturesToTraces, type SpanView } from '../../../core/agent/session-spans.ts';
import type { AttributeValue } from '../../../core/otlp/attributes.ts';
import type { KeyValue, LogRecord, LogsData, ResourceLogs, ResourceSpans, Span, TracesData } from '../../../core/otlp/model.ts';
import { otlpCaptures } from '../../../test/helpers/fixtures.ts';
import { ClaudeCodeTelemetry } from './claude-code.ts';
import { decodeCapture, factsOf, mergedViews, runScenario, scenariosWithFacts, type Capture } from './fixture-requests.ts';

interface Facts {
  session_ids: string[];
  prompts: { items: { prompt_id: string; prompt: string }[] };
  tool_calls: { items: { tool_use_id: string; name: string; outcome: string }[] };
  scripted_model_calls: {
    successful: number;
    errors: unknown[];
    per_model: Record<
      string,
      {
        requests: number;
        input_tokens: number;
        output_tokens: number;
        cache_read_input_tokens: number;
        cache_creation_input_tokens: number;
      }
    >;
  };
  otlp: { log_events: Record<string, number>; span_names: Record<string, number>; resource_attributes: Record<string, string> };
}

const AGENT = 'claude-code';
const KEPT_AS_LOGS = ['claude_code.managed_settings_resolved', 'claude_code.hook_registered', 'claude_code.plugin_loaded'];
const num = (v: AttributeValue | undefined) => Number(v ?? 0);
const ofKind = (views: SpanView[], kind: string) => views.filter((v) => v.ref.kind === kind);

function expectViewsMatchFacts(views: SpanView[], facts: Facts): void {
  const [session, ...others] = ofKind(views, 'session');
  expect(others).toEqual([]);
  expect(session).toMatchObject({ name: 'invoke_agent claude-code', parent: undefined });
  expect(session!.attributes).toMatchObject({
    'gen_ai.agent.name': 'claude-code',
    'gen_ai.agent.version': '2.1.328',
    'gen_ai.operation.name': 'invoke_agent',
  });

  const prompts = ofKind(views, 'prompt');
  expect(prompts.map((p) => p.ref.key).sort()).toEqual(facts.prompts.items.map((p) => p.prompt_id).sort());
  for (const item of facts.prompts.items) {
    const prompt = prompts.find((p) => p.ref.key === item.prompt_id)!;
    expect(prompt.parent).toEqual({ kind: 'session', key: facts.session_ids[0] });
    expect(JSON.parse(String(prompt.attributes!['gen_ai.input.messages']))).toEqual([
      { role: 'user', parts: [{ type: 'text', content: item.prompt }] },
    ]);
  }
  const promptIds = new Set(facts.prompts.items.map((p) => p.prompt_id));

  const calls = ofKind(views, 'model_call');
  expect(calls).toHaveLength(facts.scripted_model_calls.successful);
  for (const [model, usage] of Object.entries(facts.scripted_model_calls.per_model)) {
    const mine = calls.filter((c) => c.attributes!['gen_ai.request.model'] === model);
    const sum = (key: string) => mine.reduce((n, c) => n + num(c.attributes![key]), 0);
    expect(mine.every((c) => c.name === `chat ${model}`)).toBe(true);
    expect(mine).toHaveLength(usage.requests);
    expect(sum('gen_ai.usage.output_tokens')).toBe(usage.output_tokens);
    expect(sum('gen_ai.usage.cache_read.input_tokens')).toBe(usage.cache_read_input_tokens);
    expect(sum('gen_ai.usage.cache_creation.input_tokens')).toBe(usage.cache_creation_input_tokens);
    // The conventions' input tokens include cache reads and writes.
    expect(sum('gen_ai.usage.input_tokens')).toBe(usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens);
  }
  for (const call of calls) {
    expect(promptIds.has(call.parent!.key), `parent of ${call.ref.key}`).toBe(true);
    expect(call.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.response.id': call.ref.key,
    });
    expect(call.startNs! < call.endNs!).toBe(true);
  }
  if (facts.scripted_model_calls.errors.length === 0) expect(calls.filter((c) => c.error !== undefined)).toEqual([]);

  const tools = ofKind(views, 'tool_call');
  expect(tools.map((t) => t.ref.key).sort()).toEqual(facts.tool_calls.items.map((t) => t.tool_use_id).sort());
  for (const item of facts.tool_calls.items) {
    const tool = tools.find((t) => t.ref.key === item.tool_use_id)!;
    expect(tool.name).toBe(`execute_tool ${item.name}`);
    expect(tool.attributes).toMatchObject({
      'gen_ai.tool.name': item.name,
      'gen_ai.tool.call.id': item.tool_use_id,
      'agentotel.tool.outcome': item.outcome,
    });
    expect(tool.error !== undefined).toBe(item.outcome === 'error');
    expect(promptIds.has(tool.parent!.key)).toBe(true);
    expect(tool.startNs! < tool.endNs!).toBe(true);
  }
}

describe('Claude Code log events → session views (every fixture, every encoding)', () => {
  for (const scenario of scenariosWithFacts(AGENT)) {
    const facts = factsOf<Facts>(AGENT, scenario);
    const encodings = [...new Set(otlpCaptures(`${AGENT}/${scenario}`).map((c) => c.protocol))].join(', ');
    it(`${scenario} (${encodings}): prompts, model calls per model with tokens, tool calls with outcomes`, () => {
      const { captures, rest } = runScenario(new ClaudeCodeTelemetry(), AGENT, scenario, false);
      expect(new Set(captures.map((c) => c.sessionId))).toEqual(new Set(facts.session_ids));
      expect(captures.every((c) => c.agent === 'claude-code' && c.path === 'otel')).toBe(true);
      expectViewsMatchFacts(mergedViews(captures), facts);

      // Setup and inventory events stay log records, and so does every record of a session that
      // only started up (e-multi-turn's --continue logs its start under a transient session id).
      const records = logRecordsOf(scenario);
      const inFacts = (r: LogRecord) => facts.session_ids.includes(sessionOf(r)!);
      const expectedRest = records.filter((r) => !inFacts(r) || KEPT_AS_LOGS.includes(r.body!.stringValue!));
      expect(rest.logs).toEqual(expectedRest);
      const kept = (rest.logs as LogRecord[]).filter((r) => KEPT_AS_LOGS.includes(r.body!.stringValue!));
      expect(kept).toHaveLength(KEPT_AS_LOGS.reduce((n, name) => n + (facts.otlp.log_events[name] ?? 0), 0));
    });

    it(`${scenario}: the capture's resource carries the resource and the user for attribution`, () => {
      const { captures } = runScenario(new ClaudeCodeTelemetry(), AGENT, scenario, false);
      for (const c of captures) {
        expect(c.resource).toMatchObject(facts.otlp.resource_attributes);
        expect(c.resource!['user.id']).toMatch(/^[0-9a-f]{64}$/);
        expect(c.resource!['terminal.type']).toBe('xterm-256color');
      }
    });

    it(`${scenario}: session events are the hook executions of the log`, () => {
      const views = mergedViews(runScenario(new ClaudeCodeTelemetry(), AGENT, scenario, false).captures);
      const events = ofKind(views, 'session')[0]!.events ?? [];
      const hookRecords = logRecordsOf(scenario).filter(
        (r) => r.body!.stringValue!.startsWith('claude_code.hook_execution_') && facts.session_ids.includes(sessionOf(r)!),
      );
      expect(hookRecords.length).toBeGreaterThan(0);
      expect(events.filter((e) => e.name.startsWith('claude_code.hook_execution_'))).toHaveLength(hookRecords.length);
      expect(events[0]!.attributes).toMatchObject({ hook_event: 'SessionStart' });
      expect(events[0]!.attributes!['session.id']).toBeUndefined();
    });
  }
});

describe('Claude Code beta spans → the same session views (fixtures with trace exports)', () => {
  for (const scenario of scenariosWithFacts(AGENT).filter((s) => Object.keys(factsOf<Facts>(AGENT, s).otlp.span_names).length > 0)) {
    const facts = factsOf<Facts>(AGENT, scenario);

    it(`${scenario}: spans alone name the same model calls, tool calls and prompts as the logs`, () => {
      const format = new ClaudeCodeTelemetry();
      const { captures: fromLogs } = runScenario(format, AGENT, scenario, false);
      // Traces again through the same instance, which has learnt the prompt ids from the logs.
      const spanCaptures = otlpCaptures(`${AGENT}/${scenario}`)
        .filter((c) => c.signal === 'traces')
        .flatMap((c) => runSpans(format, c));
      const fromSpans = mergedViews(spanCaptures.flatMap((s) => s.captures));
      expect(spanCaptures.flatMap((s) => s.rest)).toEqual([]);
      const keys = (views: SpanView[], kind: string) =>
        ofKind(views, kind)
          .map((v) => v.ref.key)
          .sort();
      const logViews = mergedViews(fromLogs);
      for (const kind of ['prompt', 'model_call', 'tool_call']) expect(keys(fromSpans, kind), kind).toEqual(keys(logViews, kind));
      expectViewsMatchFacts(
        fromSpans.map((v) => withMessages(v, logViews)),
        facts,
      );
      // blocked_on_user is an event of its tool call even when exported before the tool span (b-multi-step).
      for (const tool of ofKind(fromSpans, 'tool_call')) {
        expect(tool.events!.map((e) => e.name).filter((n) => n.startsWith('claude_code.'))).toEqual([
          'claude_code.tool.blocked_on_user',
          'claude_code.tool.execution',
        ]);
      }
      for (const call of ofKind(fromSpans, 'model_call')) expect(call.events!.map((e) => e.name)).toEqual(['gen_ai.request.attempt']);
    });

    it(`${scenario}: logs and spans in the order Claude Code sent them give one prompt view per interaction`, () => {
      const { captures } = runScenario(new ClaudeCodeTelemetry(), AGENT, scenario, true);
      const views = mergedViews(captures);
      expectViewsMatchFacts(views, facts);
      // Each prompt also got the interaction span's times: it starts before its user_prompt event.
      const promptViews = captures.flatMap((c) =>
        c.views.filter((v) => v.ref.kind === 'prompt' && v.attributes?.['interaction.sequence'] !== undefined),
      );
      expect(promptViews.map((p) => p.ref.key).sort()).toEqual(facts.prompts.items.map((p) => p.prompt_id).sort());
    });
  }

  it('e-multi-turn: each view claims only the times it knows (within one path the later view wins the merge)', () => {
    const { captures } = runScenario(new ClaudeCodeTelemetry(), AGENT, 'e-multi-turn', true);
    const views = captures.flatMap((c) => c.views);
    // The session's start is claimed once, by the first request it was at work in; later requests claim ends.
    expect(views.filter((v) => v.ref.kind === 'session' && v.startNs !== undefined)).toHaveLength(1);
    expect(views.filter((v) => v.ref.kind === 'session').every((v) => v.endNs !== undefined)).toBe(true);
    // A prompt's start comes from its user_prompt or its interaction span, never from a later record of it.
    const records = logRecordsOf('e-multi-turn');
    for (const prompt of factsOf<Facts>(AGENT, 'e-multi-turn').prompts.items) {
      const userPrompt = records.find(
        (r) => r.body!.stringValue === 'claude_code.user_prompt' && r.attributes!.some((a) => a.value?.stringValue === prompt.prompt_id),
      )!;
      const claims = views.filter((v) => v.ref.key === prompt.prompt_id && v.startNs !== undefined).map((v) => v.startNs!);
      expect(claims.length).toBeGreaterThan(0);
      expect(claims.every((start) => start <= BigInt(userPrompt.timeUnixNano!))).toBe(true);
    }
    // No span is ever written at the epoch.
    const spans = capturesToTraces(captures).resourceSpans!.flatMap((r) => r.scopeSpans!.flatMap((s) => s.spans!));
    expect(spans.every((s) => BigInt(s.startTimeUnixNano) > 0n && BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano))).toBe(true);
  });

  it('e-multi-turn: an interaction exported before its logs waits for them, and is an event of the session meanwhile', () => {
    const format = new ClaudeCodeTelemetry();
    const [firstTraces] = otlpCaptures(`${AGENT}/e-multi-turn`);
    expect(firstTraces!.signal).toBe('traces');
    const [early] = runSpans(format, firstTraces!);
    const session = early!.captures[0]!.views.find((v) => v.ref.kind === 'session')!;
    expect(session.events!.map((e) => e.name)).toEqual(['claude_code.interaction']);
    expect(early!.captures[0]!.views.filter((v) => v.ref.kind === 'prompt')).toEqual([]);
    expect(early!.captures[0]!.views.filter((v) => v.ref.kind === 'model_call').every((v) => v.parent === undefined)).toBe(true);

    const { captures } = runScenario(format, AGENT, 'e-multi-turn', false);
    const prompt = captures[0]!.views.find((v) => v.ref.key === 'e60cc084-0850-4375-9031-da3278988e83')!;
    expect(prompt.attributes).toMatchObject({ 'interaction.sequence': 1 });
    expect(prompt.startNs).toBe(session.events![0]!.timeNs);
  });
});

// ── cases the captures do not hold, from the documented attributes ───────────────────────

const SESSION = 'c0ffee00-0000-4000-8000-000000000001';
const PROMPT = 'prompt-1';
const T0 = 1_795_305_400_000_000_000n;
const kv = (attrs: Record<string, string | number | boolean>): KeyValue[] =>
  Object.entries(attrs).map(([key, v]) => ({
    key,
    value:
      typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v },
  }));

function record(name: string, attrs: Record<string, string | number | boolean>, ms = 0): LogRecord {
  return {
    timeUnixNano: String(T0 + BigInt(ms) * 1_000_000n),
    body: { stringValue: `claude_code.${name}` },
    attributes: kv({ 'session.id': SESSION, 'event.name': name, 'user.id': 'u1', ...attrs }),
  };
}

function logsOf(records: LogRecord[], resource: Record<string, string> = {}): ResourceLogs {
  return {
    resource: { attributes: kv({ 'service.name': 'claude-code', 'service.version': '2.1.328', ...resource }) },
    scopeLogs: [{ scope: { name: 'com.anthropic.claude_code.events' }, logRecords: records }],
  };
}

const NATIVE_TRACE = 'aa'.repeat(16);
function span(
  name: string,
  id: string,
  parent: string | undefined,
  attrs: Record<string, string | number | boolean>,
  status?: Span['status'],
): Span {
  return {
    traceId: NATIVE_TRACE,
    spanId: id.padStart(16, '0'),
    parentSpanId: parent?.padStart(16, '0'),
    name,
    kind: 1,
    startTimeUnixNano: String(T0),
    endTimeUnixNano: String(T0 + 5_000_000n),
    attributes: kv({ 'session.id': SESSION, 'span.type': name.replace('claude_code.', ''), ...attrs }),
    status,
  };
}

function spansOf(spans: Span[]): ResourceSpans {
  return {
    resource: { attributes: kv({ 'service.name': 'claude-code' }) },
    scopeSpans: [{ scope: { name: 'com.anthropic.claude_code.tracing' }, spans }],
  };
}

function runSpans(format: ClaudeCodeTelemetry, capture: Capture) {
  return ((decodeCapture(capture) as TracesData).resourceSpans ?? []).map((rs) => format.spans(rs));
}

function logRecordsOf(scenario: string): LogRecord[] {
  return otlpCaptures(`${AGENT}/${scenario}`)
    .filter((c) => c.signal === 'logs')
    .flatMap((c) =>
      ((decodeCapture(c) as LogsData).resourceLogs ?? []).flatMap((rl) => (rl.scopeLogs ?? []).flatMap((s) => s.logRecords ?? [])),
    );
}

const sessionOf = (r: LogRecord) => r.attributes?.find((a) => a.key === 'session.id')?.value?.stringValue;

/** The message contents only log events carry (spans have no assistant text), for comparing span views with facts. */
function withMessages(view: SpanView, logViews: SpanView[]): SpanView {
  const fromLogs = logViews.find((v) => v.ref.kind === view.ref.kind && v.ref.key === view.ref.key);
  return view.ref.kind === 'prompt' ? { ...view, attributes: { ...fromLogs?.attributes, ...view.attributes } } : view;
}

describe('Claude Code events the fixtures do not contain', () => {
  const viewsOf = (records: LogRecord[], resource?: Record<string, string>) => {
    const out = new ClaudeCodeTelemetry().logs(logsOf(records, resource));
    return { views: mergedViews(out.captures), captures: out.captures, rest: out.rest };
  };

  it('api_error with a request id: an error of the model call, timed by duration_ms', () => {
    const { views } = viewsOf([
      record('user_prompt', { 'prompt.id': PROMPT, prompt: '<REDACTED>', prompt_length: '5' }),
      record(
        'api_error',
        {
          'prompt.id': PROMPT,
          model: 'claude-sonnet-5',
          error: 'Overloaded',
          status_code: '529',
          duration_ms: '1200',
          attempt: '11',
          request_id: 'req_9',
        },
        2_000,
      ),
      record('api_retries_exhausted', { 'prompt.id': PROMPT, request_id: 'req_9', attempt: 11 }, 2_001),
    ]);
    const call = views.find((v) => v.ref.kind === 'model_call')!;
    expect(call).toMatchObject({
      ref: { key: 'req_9' },
      name: 'chat claude-sonnet-5',
      error: 'Overloaded',
      parent: { kind: 'prompt', key: PROMPT },
    });
    expect(call.attributes).toMatchObject({ 'error.type': '529', 'gen_ai.request.model': 'claude-sonnet-5', attempt: 11 });
    expect(call.endNs! - call.startNs!).toBe(1_201_000_000n); // api_error 1200 ms before it, to the retries_exhausted a ms later
    expect(call.events!.map((e) => e.name)).toEqual(['claude_code.api_error', 'claude_code.api_retries_exhausted']);
    // A prompt logged without OTEL_LOG_USER_PROMPTS carries no message content.
    expect(views.find((v) => v.ref.kind === 'prompt')!.attributes!['gen_ai.input.messages']).toBeUndefined();
  });

  it('api_error without a request id: an event of the prompt (of the session without a prompt id)', () => {
    const { views } = viewsOf([
      record('api_error', { 'prompt.id': PROMPT, error: 'Connection refused', status_code: 'undefined' }),
      record('api_error', { error: 'Unauthorized', status_code: 401 }, 1),
    ]);
    expect(views.filter((v) => v.ref.kind === 'model_call')).toEqual([]);
    expect(views.find((v) => v.ref.kind === 'prompt')!.events).toEqual([
      { name: 'claude_code.api_error', timeNs: T0, attributes: { error: 'Connection refused', status_code: 'undefined' } },
    ]);
    expect(views.find((v) => v.ref.kind === 'session')!.events!.map((e) => e.attributes)).toEqual([
      { error: 'Unauthorized', status_code: 401 },
    ]);
  });

  it('numbers as strings, 1-hour cache writes, the agent cost and time to first token', () => {
    const { views } = viewsOf([
      record('api_request', {
        'prompt.id': PROMPT,
        model: 'claude-opus-5',
        input_tokens: '10',
        output_tokens: '20',
        cache_read_tokens: '300',
        cache_creation_tokens: '4000',
        cache_creation_1h_tokens: '1000',
        cost_usd: '0.5',
        duration_ms: '1500',
        ttft_ms: '250',
        request_id: 'req_1',
      }),
    ]);
    expect(views.find((v) => v.ref.kind === 'model_call')!.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 4310,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cache_read.input_tokens': 300,
      'gen_ai.usage.cache_creation.input_tokens': 4000,
      'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens': 1000,
      'agentotel.agent.cost_usd': 0.5,
      'gen_ai.response.time_to_first_chunk': 0.25,
    });
  });

  it('OTEL_RESOURCE_ATTRIBUTES and the user go to the resource, not onto every view', () => {
    const { captures } = viewsOf(
      [record('user_prompt', { 'prompt.id': PROMPT, 'user.email': 'ana@example.com', team: 'payments', prompt: 'hi' })],
      { team: 'payments' },
    );
    expect(captures[0]!.resource).toMatchObject({
      team: 'payments',
      'user.email': 'ana@example.com',
      'user.id': 'u1',
      'service.name': 'claude-code',
    });
    const prompt = captures[0]!.views.find((v) => v.ref.kind === 'prompt')!;
    expect(Object.keys(prompt.attributes!).sort()).toEqual(['gen_ai.input.messages']);
  });

  it('a rejected tool, subagent and compaction events; records without a session id or of unknown events stay logs', () => {
    const noSession: LogRecord = {
      timeUnixNano: String(T0),
      body: { stringValue: 'claude_code.api_request' },
      attributes: kv({ 'event.name': 'api_request' }),
    };
    const { views, rest } = viewsOf([
      record('tool_decision', {
        'prompt.id': PROMPT,
        decision: 'reject',
        source: 'user_reject',
        tool_name: 'Bash',
        tool_use_id: 'toolu_9',
      }),
      record('subagent_completed', { 'prompt.id': PROMPT, agent_type: 'Explore', total_tokens: '900' }, 1),
      record('compaction', { trigger: 'auto', pre_tokens: 150000, post_tokens: 20000 }, 2),
      record('auth', { status: 'ok' }, 3),
      noSession,
    ]);
    expect(views.find((v) => v.ref.kind === 'tool_call')).toMatchObject({
      name: 'execute_tool Bash',
      attributes: { 'agentotel.tool.outcome': 'rejected' },
    });
    expect(views.find((v) => v.ref.kind === 'prompt')!.events!.map((e) => e.name)).toEqual(['claude_code.subagent_completed']);
    expect(views.find((v) => v.ref.kind === 'session')!.events!.map((e) => e.name)).toEqual(['claude_code.compaction']);
    expect(rest.map((r) => r.body?.stringValue)).toEqual(['claude_code.auth', 'claude_code.api_request']);
    // The kept auth event still extends the session.
    expect(views.find((v) => v.ref.kind === 'session')!.endNs).toBe(T0 + 3_000_000n);
  });

  it('two sessions in one resource become two captures', () => {
    const other = record('user_prompt', { 'prompt.id': 'p2' });
    other.attributes = other.attributes!.map((a) => (a.key === 'session.id' ? { key: a.key, value: { stringValue: 'other-session' } } : a));
    const { captures } = viewsOf([record('user_prompt', { 'prompt.id': PROMPT }), other]);
    expect(captures.map((c) => c.sessionId).sort()).toEqual([SESSION, 'other-session'].sort());
  });
});

describe('Claude Code spans the fixtures do not contain', () => {
  it('a failed llm_request without a request id, a hook span and a foreign span', () => {
    const format = new ClaudeCodeTelemetry();
    format.logs(logsOf([{ ...record('user_prompt', { 'prompt.id': PROMPT }), traceId: NATIVE_TRACE, spanId: '1'.padStart(16, '0') }]));
    const foreign = { ...span('GET /healthz', 'f', '1', {}), attributes: [] };
    const { captures, rest } = format.spans(
      spansOf([
        span(
          'claude_code.llm_request',
          '2',
          '1',
          { model: 'claude-opus-5', success: false, status_code: 529, error: 'overloaded', attempt: 3 },
          { code: 2, message: 'overloaded' },
        ),
        span('claude_code.hook', '3', '1', { hook_event: 'PreToolUse' }),
        span('claude_code.interaction', '1', undefined, { user_prompt: 'hello', 'interaction.sequence': 1 }),
        foreign,
      ]),
    );
    expect(rest).toEqual([foreign]);
    const views = mergedViews(captures);
    const prompt = views.find((v) => v.ref.kind === 'prompt')!;
    expect(prompt).toMatchObject({ ref: { key: PROMPT }, startNs: T0, endNs: T0 + 5_000_000n });
    expect(prompt.events!.map((e) => [e.name, e.attributes!.error])).toEqual([
      ['claude_code.llm_request', 'overloaded'],
      ['claude_code.hook', undefined],
    ]);
    expect(views.filter((v) => v.ref.kind === 'model_call')).toEqual([]);
  });

  it('a subagent’s llm_request under an Agent tool span is a child of that tool call', () => {
    const format = new ClaudeCodeTelemetry();
    const { captures } = format.spans(
      spansOf([
        span('claude_code.llm_request', '5', '4', {
          request_id: 'req_sub',
          agent_id: 'agent-1',
          model: 'claude-haiku-4-5',
          input_tokens: 1,
        }),
        span('claude_code.tool', '4', '1', { tool_name: 'Agent', tool_use_id: 'toolu_agent', subagent_type: 'Explore' }),
      ]),
    );
    const views = mergedViews(captures);
    expect(views.find((v) => v.ref.kind === 'model_call')!.parent).toEqual({ kind: 'tool_call', key: 'toolu_agent' });
    // Its interaction's prompt is not known yet (no logs): the tool call's parent stays unknown.
    expect(views.find((v) => v.ref.kind === 'tool_call')!.parent).toBeUndefined();
  });
});
