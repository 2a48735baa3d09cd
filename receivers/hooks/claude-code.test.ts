import { describe, expect, it } from 'vitest';
import {
  agentSpanId,
  AgentAttr,
  capturesToTraces,
  sessionTraceId,
  type SessionCapture,
  type SpanView,
} from '../../core/agent/session-spans.ts';
import { attributesToMap } from '../../core/otlp/attributes.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { claudeCodeHooks } from './claude-code.ts';
import { HookAttr, HookPayloadError } from './hook-format.ts';
import { claudeCodeHookScenarios } from './test-harness.ts';

const T0 = 1_800_000_000_000_000_000n;
const MS = 1_000_000n;

/** Every hook of a scenario converted, one millisecond apart. */
function convert(hooks: { body: string }[]): SessionCapture[] {
  return hooks.map((h, i) => claudeCodeHooks.toCapture(JSON.parse(h.body) as Record<string, unknown>, T0 + BigInt(i) * MS));
}

const viewsOf = (captures: SessionCapture[], kind: SpanView['ref']['kind']) =>
  captures.flatMap((c) => c.views).filter((v) => v.ref.kind === kind);

describe.each(claudeCodeHookScenarios())('Claude Code hooks of fixture $name', ({ facts, hooks }) => {
  const captures = convert(hooks);
  const sessionId = facts.session_ids[0]!;
  const promptIds = new Set(facts.prompts.items.map((p) => p.prompt_id));

  it('names the fixture session, on the hooks path', () => {
    for (const c of captures) expect(c).toMatchObject({ agent: 'claude-code', sessionId, path: 'hooks' });
    expect(captures.every((c) => c.views.length > 0)).toBe(true);
  });

  it('makes every prompt a prompt span of the session, started when submitted, with its text', () => {
    const starts = viewsOf(captures, 'prompt').filter((v) => v.startNs !== undefined);
    expect(starts.map((v) => v.ref.key).sort()).toEqual([...promptIds].sort());
    for (const p of facts.prompts.items) {
      const view = starts.find((v) => v.ref.key === p.prompt_id)!;
      expect(view.parent).toEqual({ kind: 'session', key: sessionId });
      expect(view.name).toBe('prompt');
      expect(JSON.parse(String(view.attributes!['gen_ai.input.messages']))).toEqual([
        { role: 'user', parts: [{ type: 'text', content: p.prompt }] },
      ]);
    }
  });

  it('makes every tool call a tool span under its prompt, with id, name, arguments, outcome and times', () => {
    const tools = viewsOf(captures, 'tool_call');
    expect([...new Set(tools.map((v) => v.ref.key))].sort()).toEqual(facts.tool_calls.items.map((t) => t.tool_use_id).sort());
    for (const t of facts.tool_calls.items) {
      const views = tools.filter((v) => v.ref.key === t.tool_use_id);
      for (const v of views) {
        expect(v.name).toBe(`execute_tool ${t.name}`);
        expect(v.parent?.kind).toBe('prompt');
        expect(promptIds.has(v.parent!.key)).toBe(true);
        expect(v.attributes).toMatchObject({ 'gen_ai.tool.name': t.name, 'gen_ai.tool.call.id': t.tool_use_id });
        expect(JSON.parse(String(v.attributes!['gen_ai.tool.call.arguments']))).toBeTypeOf('object');
      }
      const pre = views.find((v) => v.endNs === undefined)!;
      expect(pre.startNs).toBeDefined();
      const post = views.find((v) => v.endNs !== undefined)!;
      expect(post.attributes![HookAttr.toolOutcome]).toBe(t.outcome);
      expect(post.startNs! < post.endNs!).toBe(true); // from duration_ms
      if (t.outcome === 'error') {
        expect(post.error).toMatch(/\S/);
        expect(post.attributes!['gen_ai.tool.call.result']).toBeUndefined();
      } else {
        expect(post.error).toBeUndefined();
        expect(JSON.parse(String(post.attributes!['gen_ai.tool.call.result']))).toBeDefined();
      }
    }
  });

  it('opens and closes the session root span with its working directory and end reason', () => {
    const sessions = viewsOf(captures, 'session');
    expect(sessions.every((v) => v.ref.key === sessionId && v.parent === undefined && v.name === 'invoke_agent claude-code')).toBe(true);
    // A resumed session started at its first run.
    const starts = hooks.filter((h) => h.file.includes('SessionStart') && !h.body.includes('"source":"resume"'));
    expect(starts).toHaveLength(1);
    expect(sessions.filter((v) => v.startNs !== undefined)).toHaveLength(1);
    const ends = sessions.filter((v) => v.attributes![HookAttr.sessionEndReason] !== undefined);
    expect(ends).toHaveLength(hooks.filter((h) => h.file.includes('SessionEnd')).length);
    expect(ends.every((v) => v.endNs !== undefined && v.startNs === undefined)).toBe(true);
    expect(sessions.every((v) => String(v.attributes![HookAttr.cwd]).startsWith('/home/dev/projects/'))).toBe(true);
    expect(sessions.some((v) => v.error !== undefined)).toBe(false);
  });

  it('ends each prompt at its Stop with the last assistant message', () => {
    const stops = viewsOf(captures, 'prompt').filter((v) => v.endNs !== undefined && v.attributes!['gen_ai.output.messages'] !== undefined);
    expect(new Set(stops.map((v) => v.ref.key))).toEqual(promptIds);
  });

  it('becomes OTLP spans with the deterministic ids, parents and time knowledge', () => {
    const traceId = sessionTraceId('claude-code', sessionId);
    const spans = [...eachSpan(capturesToTraces(captures))].map((s) => s.span);
    const promptSpanIds = new Set([...promptIds].map((key) => agentSpanId(traceId, { kind: 'prompt', key })));
    for (const span of spans) {
      expect(span.traceId).toBe(traceId);
      const attrs = attributesToMap(span.attributes);
      expect(attrs[AgentAttr.capturePath]).toBe('hooks');
      if (attrs[AgentAttr.spanKind] === 'tool_call') {
        expect(promptSpanIds.has(span.parentSpanId!)).toBe(true);
        expect(['start', 'both']).toContain(attrs[AgentAttr.timeKnown]);
      }
      if (attrs[AgentAttr.spanKind] === 'prompt') expect(span.parentSpanId).toBe(agentSpanId(traceId, { kind: 'session', key: sessionId }));
    }
    const toolOutcomes = spans.filter((s) => s.status?.code === 2).map((s) => attributesToMap(s.attributes)['gen_ai.tool.call.id']);
    expect(toolOutcomes.sort()).toEqual(
      facts.tool_calls.items
        .filter((t) => t.outcome === 'error')
        .map((t) => t.tool_use_id)
        .sort(),
    );
  });

  it('keeps message displays and tool batches as events of the prompt', () => {
    const events = viewsOf(captures, 'prompt').flatMap((v) => v.events ?? []);
    const displays = hooks.filter((h) => h.file.includes('MessageDisplay')).length;
    expect(events.filter((e) => e.name === 'MessageDisplay')).toHaveLength(displays);
    const batches = events.filter((e) => e.name === 'PostToolBatch');
    expect(batches).toHaveLength(hooks.filter((h) => h.file.includes('PostToolBatch')).length);
    const batchedIds = batches.flatMap((e) => String(e.attributes![HookAttr.toolCallIds]).split(','));
    expect(batchedIds.sort()).toEqual(facts.tool_calls.items.map((t) => t.tool_use_id).sort());
  });
});

describe('Claude Code hooks beyond the fixtures', () => {
  const session = { session_id: 's-1', cwd: '/work', prompt_id: 'p-1' };
  const at = T0;
  const views = (payload: Record<string, unknown>) => claudeCodeHooks.toCapture({ ...session, ...payload }, at).views;

  it('keeps an event it does not know as a span event of the session, never an error', () => {
    const [view, ...rest] = views({ hook_event_name: 'TeleportRequested', destination: 'mars', secret_prompt: 'hush' });
    expect(rest).toEqual([]);
    expect(view).toMatchObject({ ref: { kind: 'session', key: 's-1' }, endNs: at });
    expect(view!.events).toEqual([
      {
        name: 'TeleportRequested',
        timeNs: at,
        attributes: expect.objectContaining({
          [AgentAttr.unknownEvent]: 'TeleportRequested',
          [HookAttr.hookFields]: expect.stringContaining('destination'),
        }),
      },
    ]);
    // Field names only: an unknown payload's values may be content the redaction tiers do not know.
    expect(JSON.stringify(capturesToTraces([{ agent: 'claude-code', sessionId: 's-1', path: 'hooks', views: [view!] }]))).not.toContain(
      'hush',
    );
    expect(views({})[0]!.events![0]!.attributes![AgentAttr.unknownEvent]).toBe('(no hook_event_name)');
  });

  it('refuses a payload without a session id', () => {
    expect(() => claudeCodeHooks.toCapture({ hook_event_name: 'Stop' }, at)).toThrow(HookPayloadError);
    expect(() => claudeCodeHooks.toCapture({ session_id: '', hook_event_name: 'Stop' }, at)).toThrow(/session_id/);
  });

  it('makes a subagent an invoke_agent span of its prompt, and its tool calls its children', () => {
    const sub = { agent_id: 'a-7', agent_type: 'Explore' };
    const [start] = views({ hook_event_name: 'SubagentStart', ...sub });
    expect(start).toMatchObject({
      ref: { kind: 'subagent', key: 'a-7' },
      parent: { kind: 'prompt', key: 'p-1' },
      name: 'invoke_agent Explore',
      startNs: at,
      attributes: { 'gen_ai.agent.id': 'a-7', 'gen_ai.agent.name': 'Explore', 'gen_ai.operation.name': 'invoke_agent' },
    });
    const [stop] = views({
      hook_event_name: 'SubagentStop',
      ...sub,
      agent_transcript_path: '/t/a-7.jsonl',
      last_assistant_message: 'done',
    });
    expect(stop).toMatchObject({
      ref: { kind: 'subagent', key: 'a-7' },
      endNs: at,
      attributes: { [HookAttr.transcriptPath]: '/t/a-7.jsonl' },
    });
    const [tool] = views({
      hook_event_name: 'PreToolUse',
      ...sub,
      tool_name: 'Grep',
      tool_input: { pattern: 'x' },
      tool_use_id: 'toolu_9',
    });
    expect(tool).toMatchObject({
      ref: { kind: 'tool_call', key: 'toolu_9' },
      parent: { kind: 'subagent', key: 'a-7' },
      name: 'execute_tool Grep',
    });
  });

  it('marks the session and the prompt failed on StopFailure', () => {
    const failed = views({ hook_event_name: 'StopFailure', error_type: 'rate_limit', error_message: 'Rate limit exceeded' });
    expect(failed.map((v) => [v.ref.kind, v.error, v.endNs])).toEqual([
      ['session', 'rate_limit: Rate limit exceeded', at],
      ['prompt', 'rate_limit: Rate limit exceeded', at],
    ]);
    expect(failed[0]!.attributes!['error.type']).toBe('rate_limit');
  });

  it('keeps compaction and notifications as session events with their details', () => {
    expect(views({ hook_event_name: 'PreCompact', trigger: 'auto', custom_instructions: 'x' })[0]!.events).toEqual([
      { name: 'PreCompact', timeNs: at, attributes: { trigger: 'auto' } },
    ]);
    const [note] = views({
      hook_event_name: 'Notification',
      notification_type: 'idle_prompt',
      message: 'Claude is waiting for your input',
    });
    expect(note!.events![0]).toMatchObject({
      name: 'Notification',
      attributes: { notification_type: 'idle_prompt', message: 'Claude is waiting for your input' },
    });
  });

  it('records the model and source of a session start, and parents tools to the session without a prompt id', () => {
    const [start] = claudeCodeHooks.toCapture(
      { session_id: 's-1', hook_event_name: 'SessionStart', source: 'startup', model: 'claude-opus-5-5' },
      at,
    ).views;
    expect(start!.attributes).toMatchObject({ 'gen_ai.request.model': 'claude-opus-5-5', [HookAttr.sessionSource]: 'startup' });
    const [tool] = claudeCodeHooks.toCapture(
      { session_id: 's-1', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_use_id: 't' },
      at,
    ).views;
    expect(tool!.parent).toEqual({ kind: 'session', key: 's-1' });
  });

  it('keeps a tool event without a tool_use_id as a session event naming the missing field', () => {
    const [view] = views({ hook_event_name: 'PostToolUse', tool_name: 'Bash' });
    expect(view!.ref.kind).toBe('session');
    expect(view!.events![0]!.attributes).toMatchObject({ [HookAttr.missingField]: 'tool_use_id' });
    expect(view!.events![0]!.attributes![AgentAttr.unknownEvent]).toBeUndefined();
  });
});
