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
} from '../../core/agent/genai.ts';
import type { SpanView } from '../../core/agent/session-spans.ts';
import { Hook, HookAttr, hookFormat, sessionEnd, sessionEvent, sessionStart, text, unknownEventAttributes } from './hook-format.ts';

/** An event this converter does not know, or a known one without the key its span needs. */
const unknownEvent = (h: Hook, missing?: string): SpanView[] => [sessionEvent(CODEX, h, unknownEventAttributes(h, missing))];

function userPromptSubmit(h: Hook): SpanView[] {
  const turn = text(h.payload.turn_id);
  const attributes = { [GenAiAttr.inputMessages]: userMessages(text(h.payload.prompt)) };
  if (turn === undefined) return [sessionEvent(CODEX, h, { ...attributes, [HookAttr.missingField]: 'turn_id' })];
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
  SessionStart: (h) =>
    sessionStart(CODEX, h, { [GenAiAttr.requestModel]: h.field('model'), [HookAttr.permissionMode]: h.field('permission_mode') }),
  SessionEnd: (h) => sessionEnd(CODEX, h),
  UserPromptSubmit: userPromptSubmit,
  Stop: stop,
  PreToolUse: (h) => toolUse(h, 'pre'),
  PostToolUse: (h) => toolUse(h, 'post'),
};

export const codexHooks = hookFormat(CODEX, {
  hook: (payload, sessionId, at) => new Hook(payload, sessionId, at),
  converters,
  unknown: unknownEvent,
});
