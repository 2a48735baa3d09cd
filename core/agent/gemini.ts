/**
 * How every capture path names the spans of a Gemini CLI session (docs/agent-sessions.md "Gemini"):
 *
 *   session     session id: hook session_id = chat file sessionId = OTel session.id / gen_ai.conversation.id
 *   prompt      prompt_id: only the OTel logs (prompt_id) and spans (gen_ai.prompt.name) carry it;
 *               hooks and the chat file cannot name a prompt and keep its text as a session event
 *   model call  `<model>:<prompt tokens>/<candidate tokens>`: the response id is only in the OTel
 *               logs, and the model and these two counts are what hooks (the last AfterModel
 *               chunk), the chat file, log records and spans all report
 *   tool call   the CLI's call id (`<tool>__<tool>_<epoch ms>_<n>`); the hooks carry none
 *
 * Gemini counts thoughts outside candidatesTokenCount: output_tokens here is candidates + thoughts
 * (the conventions' "includes reasoning"); cached tokens are part of promptTokenCount already.
 */
import { modelCallView, usageAttributes, type OutputPart, type ViewFields } from './genai.ts';
import type { AgentName, SpanRef, SpanView } from './session-spans.ts';

export const GEMINI = 'gemini-cli' satisfies AgentName;
export const GEMINI_PROVIDER = 'gcp.gemini';

export interface GeminiUsage {
  /** promptTokenCount (cached included). */
  input: number;
  /** candidatesTokenCount (thoughts excluded). */
  candidates: number;
  cached?: number;
  thoughts?: number;
}

export const geminiModelCallKey = (model: string, input: number, candidates: number): string => `${model}:${input}/${candidates}`;

/** A model call view keyed and attributed by its model and usage. */
export function geminiModelCallView(model: string, usage: GeminiUsage, parent: SpanRef | undefined, view: ViewFields = {}): SpanView {
  const attributes = {
    ...usageAttributes({
      input: usage.input,
      output: usage.candidates + (usage.thoughts ?? 0),
      cacheRead: usage.cached,
      reasoning: usage.thoughts,
    }),
    ...view.attributes,
  };
  return modelCallView(geminiModelCallKey(model, usage.input, usage.candidates), parent, GEMINI_PROVIDER, model, { ...view, attributes });
}

/** The exit code run_shell_command reports to the model ("Exit Code: 1"; only when it is not 0). */
export function geminiExitCode(output: string | undefined): number | undefined {
  const m = output === undefined ? null : /^Exit Code: (-?\d+)$/m.exec(output);
  return m ? Number(m[1]) : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Gemini content parts (`{text, thought?}`, `{functionCall: {id, name, args}}`) of one response,
 * possibly streamed as many chunks, as GenAI output parts: adjacent text chunks are joined.
 */
export function geminiOutputParts(parts: unknown[]): OutputPart[] {
  const out: OutputPart[] = [];
  for (const part of parts) {
    if (!isObject(part)) continue;
    const call = part.functionCall;
    if (isObject(call) && typeof call.name === 'string') {
      out.push({ type: 'tool_call', id: typeof call.id === 'string' ? call.id : undefined, name: call.name, arguments: call.args });
      continue;
    }
    if (typeof part.text !== 'string' || part.text === '') continue;
    const type = part.thought === true ? 'reasoning' : 'text';
    const last = out.at(-1);
    if (last && last.type === type) last.content += part.text;
    else out.push({ type, content: part.text });
  }
  return out;
}
