/**
 * Claude Code hook payloads as session views. Each payload tells of one moment (the time it
 * was received); the views of one span from several payloads (PreToolUse gives a tool call's
 * start, PostToolUse its end and result) share the span id and merge downstream.
 *
 *   SessionStart, SessionEnd       session (start, unless resumed or compacted / end; source, model, reason)
 *   Stop, StopFailure              the prompt's end (and output or error) and the session's latest end
 *   UserPromptSubmit               prompt, key prompt_id (start, the prompt text)
 *   PreToolUse                     tool call, key tool_use_id (start, arguments)
 *   PostToolUse(Failure)           tool call (end, start from duration_ms, result or error)
 *   SubagentStart, SubagentStop    subagent, key agent_id
 *   PostToolBatch, MessageDisplay  span events on the enclosing prompt / subagent
 *   PreCompact, PostCompact, Notification, anything else
 *                                  span events on the session; unknown events marked as such
 *
 * Parents: prompt → session; subagent → its prompt (the hooks do not say which Agent tool call
 * spawned it); tool call → the subagent it ran in (agent_id), else its prompt, else the session.
 * A view that only knows its span was alive at a moment (a span event, a Stop) sets the end to
 * that moment: the span ended no earlier.
 */
import type { SpanRef, SpanView } from '../../core/agent/session-spans.ts';
import type { Attributes } from '../../core/agent/genai.ts';
import { Hook, HookAttr, hookFormat, text, unknownEventAttributes, type Payload } from './hook-format.ts';

const AGENT = 'claude-code';

/** A Claude Code payload: its prompt and subagent name the spans its views belong to. */
class ClaudeHook extends Hook {
  get promptId(): string | undefined {
    return this.field('prompt_id');
  }

  get agentId(): string | undefined {
    return this.field('agent_id');
  }

  get sessionRef(): SpanRef {
    return { kind: 'session', key: this.sessionId };
  }

  get promptRef(): SpanRef | undefined {
    const key = this.promptId;
    return key === undefined ? undefined : { kind: 'prompt', key };
  }

  get subagentRef(): SpanRef | undefined {
    const key = this.agentId;
    return key === undefined ? undefined : { kind: 'subagent', key };
  }
}

const json = (v: unknown): string | undefined => (v === undefined ? undefined : JSON.stringify(v));

/** A message in the GenAI conventions' gen_ai.input/output.messages shape. */
function messages(role: 'user' | 'assistant', content: string | undefined): string | undefined {
  return content === undefined ? undefined : JSON.stringify([{ role, parts: [{ type: 'text', content }] }]);
}

// ── views ────────────────────────────────────────────────────────────────────

function sessionView(h: ClaudeHook, view: Partial<SpanView> = {}): SpanView {
  return {
    ref: h.sessionRef,
    name: `invoke_agent ${AGENT}`,
    ...view,
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': AGENT,
      'gen_ai.provider.name': 'anthropic',
      [HookAttr.cwd]: h.field('cwd'),
      [HookAttr.transcriptPath]: h.field('transcript_path'),
      [HookAttr.permissionMode]: h.field('permission_mode'),
      ...view.attributes,
    },
  };
}

function promptView(h: ClaudeHook, ref: SpanRef, view: Partial<SpanView> = {}): SpanView {
  return {
    ref,
    parent: h.sessionRef,
    name: 'prompt',
    ...view,
    attributes: { [HookAttr.permissionMode]: h.field('permission_mode'), ...view.attributes },
  };
}

function subagentView(h: ClaudeHook, ref: SpanRef, view: Partial<SpanView> = {}): SpanView {
  const type = h.field('agent_type');
  return {
    ref,
    parent: h.promptRef ?? h.sessionRef,
    name: `invoke_agent ${type ?? 'subagent'}`,
    ...view,
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': ref.key, 'gen_ai.agent.name': type, ...view.attributes },
  };
}

function toolView(h: ClaudeHook, toolUseId: string, view: Partial<SpanView> = {}): SpanView {
  const tool = h.field('tool_name');
  return {
    ref: { kind: 'tool_call', key: toolUseId },
    parent: h.subagentRef ?? h.promptRef ?? h.sessionRef,
    name: `execute_tool ${tool ?? 'unknown'}`,
    ...view,
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': tool,
      'gen_ai.tool.call.id': toolUseId,
      'gen_ai.tool.call.arguments': json(h.payload.tool_input),
      ...view.attributes,
    },
  };
}

/** A span event on the innermost span the payload names: its subagent, else its prompt, else the session. */
function eventOnEnclosing(h: ClaudeHook, attributes: Attributes): SpanView {
  const view = { endNs: h.at, events: [{ name: h.event, timeNs: h.at, attributes }] };
  const subagent = h.subagentRef;
  if (subagent) return subagentView(h, subagent, view);
  const prompt = h.promptRef;
  return prompt ? promptView(h, prompt, view) : sessionView(h, view);
}

function eventOnSession(h: ClaudeHook, attributes: Attributes): SpanView {
  return sessionView(h, { endNs: h.at, events: [{ name: h.event, timeNs: h.at, attributes }] });
}

/** An event the converter does not know, or a known one without the key its span needs. */
function unknownEvent(h: ClaudeHook, missing?: string): SpanView[] {
  return [eventOnSession(h, unknownEventAttributes(h, missing))];
}

// ── events ───────────────────────────────────────────────────────────────────

const SESSION_START_DETAILS = [
  'source',
  'seconds_since_last_response',
  'context_tokens',
  'prompt_cache_likely_expired',
  'estimated_cache_write_usd',
];

/** Sources of a SessionStart that continue a session begun earlier: the moment is not the session's start. */
const CONTINUED = new Set(['resume', 'compact']);

function sessionStart(h: ClaudeHook): SpanView[] {
  const continued = CONTINUED.has(h.field('source') ?? '');
  return [
    sessionView(h, {
      ...(continued ? { endNs: h.at } : { startNs: h.at }),
      attributes: { 'gen_ai.request.model': h.field('model'), [HookAttr.sessionSource]: h.field('source') },
      events: [{ name: h.event, timeNs: h.at, attributes: h.details(SESSION_START_DETAILS) }],
    }),
  ];
}

function sessionEnd(h: ClaudeHook): SpanView[] {
  return [sessionView(h, { endNs: h.at, attributes: { [HookAttr.sessionEndReason]: h.field('reason') } })];
}

function stop(h: ClaudeHook): SpanView[] {
  const prompt = h.promptRef;
  const output = { 'gen_ai.output.messages': messages('assistant', h.field('last_assistant_message')) };
  return [sessionView(h, { endNs: h.at }), ...(prompt ? [promptView(h, prompt, { endNs: h.at, attributes: output })] : [])];
}

function stopFailure(h: ClaudeHook): SpanView[] {
  const type = h.field('error_type');
  const error = [type, h.field('error_message') ?? h.field('error')].filter(Boolean).join(': ') || 'the turn ended with an API error';
  const failed = { endNs: h.at, error, attributes: { 'error.type': type } };
  const prompt = h.promptRef;
  return [sessionView(h, failed), ...(prompt ? [promptView(h, prompt, failed)] : [])];
}

function userPromptSubmit(h: ClaudeHook): SpanView[] {
  const prompt = h.promptRef;
  const input = { 'gen_ai.input.messages': messages('user', h.field('prompt')) };
  // Without a prompt id (older CLIs) the prompt cannot be named: keep it as an event of the session.
  if (!prompt) return [eventOnSession(h, input)];
  return [promptView(h, prompt, { startNs: h.at, attributes: input })];
}

function preToolUse(h: ClaudeHook): SpanView[] {
  const id = h.field('tool_use_id');
  return id === undefined ? unknownEvent(h, 'tool_use_id') : [toolView(h, id, { startNs: h.at })];
}

function postToolUse(h: ClaudeHook, failed: boolean): SpanView[] {
  const id = h.field('tool_use_id');
  if (id === undefined) return unknownEvent(h, 'tool_use_id');
  const duration = h.payload.duration_ms;
  const startNs = typeof duration === 'number' && duration >= 0 ? h.at - BigInt(Math.round(duration * 1e6)) : undefined;
  const result = failed
    ? {
        error: h.field('error') ?? 'tool call failed',
        attributes: { [HookAttr.toolOutcome]: 'error', [HookAttr.toolInterrupted]: h.payload.is_interrupt === true || undefined },
      }
    : { attributes: { [HookAttr.toolOutcome]: 'success', 'gen_ai.tool.call.result': json(h.payload.tool_response) } };
  return [toolView(h, id, { startNs, endNs: h.at, ...result })];
}

function postToolBatch(h: ClaudeHook): SpanView[] {
  const calls = Array.isArray(h.payload.tool_calls) ? (h.payload.tool_calls as unknown[]) : [];
  const ids = calls.map((c) => (c !== null && typeof c === 'object' ? text((c as Payload).tool_use_id) : undefined)).filter(Boolean);
  return [eventOnEnclosing(h, { [HookAttr.toolCallIds]: ids.join(','), [HookAttr.toolCallCount]: calls.length })];
}

function messageDisplay(h: ClaudeHook): SpanView[] {
  return [
    eventOnEnclosing(h, {
      'gen_ai.output.messages': messages('assistant', h.field('delta')),
      ...h.details(['message_id', 'turn_id', 'index', 'final']),
    }),
  ];
}

function subagentStart(h: ClaudeHook): SpanView[] {
  const ref = h.subagentRef;
  return ref ? [subagentView(h, ref, { startNs: h.at })] : unknownEvent(h, 'agent_id');
}

function subagentStop(h: ClaudeHook): SpanView[] {
  const ref = h.subagentRef;
  if (!ref) return unknownEvent(h, 'agent_id');
  const attributes = {
    [HookAttr.transcriptPath]: h.field('agent_transcript_path'),
    'gen_ai.output.messages': messages('assistant', h.field('last_assistant_message')),
  };
  return [subagentView(h, ref, { endNs: h.at, attributes })];
}

const converters: Record<string, (h: ClaudeHook) => SpanView[]> = {
  SessionStart: sessionStart,
  SessionEnd: sessionEnd,
  Stop: stop,
  StopFailure: stopFailure,
  UserPromptSubmit: userPromptSubmit,
  PreToolUse: preToolUse,
  PostToolUse: (h) => postToolUse(h, false),
  PostToolUseFailure: (h) => postToolUse(h, true),
  PostToolBatch: postToolBatch,
  MessageDisplay: messageDisplay,
  SubagentStart: subagentStart,
  SubagentStop: subagentStop,
  PreCompact: (h) => [eventOnSession(h, h.details(['trigger']))],
  PostCompact: (h) => [eventOnSession(h, h.details(['trigger']))],
  Notification: (h) => [eventOnSession(h, h.details(['notification_type', 'title', 'message']))],
};

export const claudeCodeHooks = hookFormat(AGENT, {
  hook: (payload, sessionId, at) => new ClaudeHook(payload, sessionId, at),
  converters,
  unknown: unknownEvent,
});
