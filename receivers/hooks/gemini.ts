/**
 * Gemini CLI hook payloads (settings.json `hooks`, the JSON a hook command reads on stdin) as
 * session views, named as core/agent/gemini.ts says. Times are the payload's `timestamp`.
 * Keys: session = session_id, model call = `<model>:<promptTokenCount>/<candidatesTokenCount>`.
 *
 * Gemini's hooks carry no prompt id and no tool call id, so they cannot name a prompt or a tool
 * call span: what they tell of those goes on the session span as events (the OTel logs and the
 * chat file name the spans). The last AfterModel chunk of a response carries its usage, which
 * names the model call on every path.
 *
 *   SessionStart, SessionEnd              session (start / end, source, reason, cwd)
 *   AfterModel with a finish reason       model call (end, usage; no cached-token count in hooks)
 *   BeforeAgent, AfterAgent               session events with the prompt (and the response: Gemini
 *                                         0.61 repeats stream fragments in it, kept as given)
 *   BeforeTool, AfterTool                 session events with the tool, arguments, result, exit code
 *   PreCompress, Notification             session events
 *   BeforeModel, BeforeToolSelection,     nothing: the model call's other views tell more
 *   AfterModel chunks before the last
 *   anything else                         a session span event marked agentotel.unknown_event
 */
import { geminiExitCode, geminiModelCallView, GEMINI } from '../../core/agent/gemini.ts';
import { assistantMessages, asText, GenAiAttr, toolOutcome, userMessages } from '../../core/agent/genai.ts';
import { toNs, type SpanView } from '../../core/agent/session-spans.ts';
import { Hook, hookFormat, sessionEnd, sessionEvent, sessionStart, text, unknownEventAttributes, type Payload } from './hook-format.ts';

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
const object = (v: unknown): Payload | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Payload) : undefined);

/** The final chunk of a streamed response (it has a finish reason and the usage) as a model call. */
function afterModel(h: Hook): SpanView[] {
  const response = object(h.payload.llm_response);
  const usage = object(response?.usageMetadata);
  const candidates = Array.isArray(response?.candidates) ? response.candidates.map(object) : [];
  const finishReason = candidates.map((c) => text(c?.finishReason)).find((r) => r !== undefined);
  const model = text(object(h.payload.llm_request)?.model);
  const input = count(usage?.promptTokenCount);
  if (finishReason === undefined || model === undefined || input === undefined) return [];
  const output = count(usage?.candidatesTokenCount) ?? 0;
  // The hooks' usage has no thoughtsTokenCount: the total tells it (total = prompt + candidates + thoughts).
  const total = count(usage?.totalTokenCount);
  const thoughts =
    count(usage?.thoughtsTokenCount) ?? (total !== undefined && total >= input + output ? total - input - output : undefined);
  const view = { endNs: h.at, attributes: { [GenAiAttr.finishReasons]: finishReason.toLowerCase() } };
  return [
    geminiModelCallView(model, { input, candidates: output, cached: count(usage?.cachedContentTokenCount), thoughts }, undefined, view),
  ];
}

function agentEvent(h: Hook): SpanView[] {
  const response = text(h.payload.prompt_response);
  return [
    sessionEvent(GEMINI, h, {
      [GenAiAttr.inputMessages]: userMessages(text(h.payload.prompt)),
      [GenAiAttr.outputMessages]: response && assistantMessages([{ type: 'text', content: response }]),
    }),
  ];
}

function toolEvent(h: Hook): SpanView[] {
  const response = object(h.payload.tool_response);
  const result = text(response?.llmContent) ?? asText(h.payload.tool_response);
  const error = text(response?.error) ?? text(object(response?.error)?.message);
  const outcome = h.event === 'AfterTool' ? toolOutcome(geminiExitCode(result), error !== undefined) : { attributes: {} };
  return [
    sessionEvent(GEMINI, h, {
      [GenAiAttr.toolName]: text(h.payload.tool_name),
      [GenAiAttr.toolCallArguments]: asText(h.payload.tool_input),
      [GenAiAttr.toolCallResult]: result,
      ...outcome.attributes,
    }),
  ];
}

const none = (): SpanView[] => [];

const converters: Record<string, (h: Hook) => SpanView[]> = {
  SessionStart: (h) => sessionStart(GEMINI, h),
  SessionEnd: (h) => sessionEnd(GEMINI, h),
  AfterModel: afterModel,
  BeforeAgent: agentEvent,
  AfterAgent: agentEvent,
  BeforeTool: toolEvent,
  AfterTool: toolEvent,
  PreCompress: (h) => [sessionEvent(GEMINI, h, h.details(['trigger']))],
  Notification: (h) => [sessionEvent(GEMINI, h, h.details(['notification_type', 'message']))],
  BeforeModel: none,
  BeforeToolSelection: none,
};

export const geminiHooks = hookFormat(GEMINI, {
  hook: (payload, sessionId, receivedNs) => new Hook(payload, sessionId, toNs(text(payload.timestamp)) ?? receivedNs),
  converters,
  unknown: (h) => [sessionEvent(GEMINI, h, unknownEventAttributes(h))],
});
