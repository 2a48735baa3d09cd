/**
 * Codex CLI hook payloads (`~/.codex/hooks.json`, the JSON a hook command reads on stdin) as
 * session views, named as core/agent/codex.ts says. Codex sends no timestamp: a view's time is
 * when its payload was received.
 * Keys: session = session_id, prompt = turn_id, tool call = tool_use_id (the model's call_id);
 * Codex fires no hook for model calls.
 *
 *   SessionStart       session (start, model, cwd, source)
 *   UserPromptSubmit   prompt, key turn_id (start, the prompt text)
 *   PreToolUse         tool call, key tool_use_id = the model's call_id (start, arguments)
 *   PostToolUse        tool call (end, result); Codex tells no exit code here, so the outcome is
 *                      left to the transcript and OTel (a command that exited 1 still "succeeds")
 *   Stop               the prompt's end and final answer, the session's latest end
 *   SessionEnd         session (end, reason)
 *   anything else      a session span event marked agentotel.unknown_event
 *
 * Codex names its shell tools `Bash` in hooks, with `tool_input: {command}` (Claude Code's
 * shape); the transcript and OTel name the model-facing tool (`exec_command`, `{cmd, workdir}`)
 * and outrank hooks when the views merge.
 */
import { CODEX } from '../../core/agent/codex.ts';
import {
  assistantMessages,
  asText,
  GenAiAttr,
  promptRef,
  promptView,
  sessionRef,
  sessionView,
  toolCallView,
  userMessages,
  type Attributes,
} from '../../core/agent/genai.ts';
import { AgentAttr, type SessionCapture, type SpanView } from '../../core/agent/session-spans.ts';
import { HookAttr } from './claude-code.ts';
import { type HookFormat, HookPayloadError } from './hook-format.ts';

type Payload = Record<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

interface Hook {
  payload: Payload;
  event: string;
  sessionId: string;
  at: bigint;
}

function sessionEvent(h: Hook, attributes: Attributes): SpanView {
  return sessionView(CODEX, h.sessionId, { endNs: h.at, events: [{ name: h.event, timeNs: h.at, attributes }] });
}

/** An event this converter does not know, or a known one without the key its span needs. */
function unknownEvent(h: Hook, missing?: string): SpanView[] {
  return [
    sessionEvent(h, {
      [AgentAttr.unknownEvent]: missing === undefined ? h.event : undefined,
      [HookAttr.missingField]: missing,
      [HookAttr.hookFields]: Object.keys(h.payload).sort().join(','),
    }),
  ];
}

function sessionStart(h: Hook): SpanView[] {
  const attributes = {
    [GenAiAttr.requestModel]: text(h.payload.model),
    [HookAttr.cwd]: text(h.payload.cwd),
    [HookAttr.transcriptPath]: text(h.payload.transcript_path),
    [HookAttr.permissionMode]: text(h.payload.permission_mode),
    [HookAttr.sessionSource]: text(h.payload.source),
  };
  return [sessionView(CODEX, h.sessionId, { startNs: h.at, attributes })];
}

function sessionEnd(h: Hook): SpanView[] {
  return [sessionView(CODEX, h.sessionId, { endNs: h.at, attributes: { [HookAttr.sessionEndReason]: text(h.payload.reason) } })];
}

function userPromptSubmit(h: Hook): SpanView[] {
  const turn = text(h.payload.turn_id);
  const attributes = { [GenAiAttr.inputMessages]: userMessages(text(h.payload.prompt)) };
  if (turn === undefined) return [sessionEvent(h, { ...attributes, [HookAttr.missingField]: 'turn_id' })];
  return [promptView(h.sessionId, turn, { startNs: h.at, attributes })];
}

function stop(h: Hook): SpanView[] {
  const turn = text(h.payload.turn_id);
  const answer = text(h.payload.last_assistant_message);
  const prompt =
    turn === undefined
      ? []
      : [
          promptView(h.sessionId, turn, {
            endNs: h.at,
            attributes: { [GenAiAttr.outputMessages]: answer && assistantMessages([{ type: 'text', content: answer }]) },
          }),
        ];
  return [sessionView(CODEX, h.sessionId, { endNs: h.at }), ...prompt];
}

function toolUse(h: Hook, phase: 'pre' | 'post'): SpanView[] {
  const id = text(h.payload.tool_use_id);
  if (id === undefined) return unknownEvent(h, 'tool_use_id');
  const turn = text(h.payload.turn_id);
  const parent = turn === undefined ? sessionRef(h.sessionId) : promptRef(turn);
  const attributes = {
    [GenAiAttr.toolCallArguments]: asText(h.payload.tool_input),
    [GenAiAttr.toolCallResult]: phase === 'post' ? asText(h.payload.tool_response) : undefined,
  };
  const times = phase === 'pre' ? { startNs: h.at } : { endNs: h.at };
  return [toolCallView(id, parent, text(h.payload.tool_name), { ...times, attributes })];
}

const converters: Record<string, (h: Hook) => SpanView[]> = {
  SessionStart: sessionStart,
  SessionEnd: sessionEnd,
  UserPromptSubmit: userPromptSubmit,
  Stop: stop,
  PreToolUse: (h) => toolUse(h, 'pre'),
  PostToolUse: (h) => toolUse(h, 'post'),
};

export const codexHooks: HookFormat = {
  agent: CODEX,
  toCapture(payload: Payload, receivedNs: bigint): SessionCapture {
    const sessionId = text(payload.session_id);
    if (sessionId === undefined) throw new HookPayloadError('the hook payload has no session_id (a non-empty string)');
    const hook: Hook = { payload, sessionId, at: receivedNs, event: text(payload.hook_event_name) ?? '(no hook_event_name)' };
    const convert = Object.hasOwn(converters, hook.event) ? converters[hook.event]! : unknownEvent;
    return { agent: CODEX, sessionId, path: 'hooks', views: convert(hook) };
  },
};
