/**
 * How every capture path names the spans of a Codex CLI session (docs/agent-sessions.md "Codex"):
 *
 *   session     the thread id: hook session_id = rollout session_meta.id = OTel conversation.id
 *   prompt      the turn id: hook turn_id = rollout turn_id = span attribute turn.id / turn_id
 *   model call  its token usage, `usage:<input>/<cached>/<output>/<reasoning>`: the response id is
 *               only in the rollout, and neither the OTel logs nor the spans carry a turn id or a
 *               sequence number with the usage; the usage is what all three report identically
 *               (input grows with the history, so two calls of one session practically never match)
 *   tool call   the model's call_id (hook tool_use_id)
 *
 * Codex reports cached input inside input_tokens and reasoning inside output_tokens, as the GenAI
 * conventions count them: nothing is added up.
 */
import { modelCallView, usageAttributes, type ViewFields } from './genai.ts';
import type { AgentName, SpanRef, SpanView } from './session-spans.ts';

export const CODEX = 'codex' satisfies AgentName;
export const CODEX_PROVIDER = 'openai';

export interface CodexUsage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
  cacheWrite?: number;
}

/** The names of the token counts in one kind of Codex record (OTel log event, span, rollout token usage). */
export type CodexUsageKeys = Record<keyof CodexUsage, string>;

/** The usage `count` reads under `keys`; undefined unless the input and output counts are there. */
export function readCodexUsage(count: (key: string) => number | undefined, keys: CodexUsageKeys): CodexUsage | undefined {
  const input = count(keys.input);
  const output = count(keys.output);
  if (input === undefined || output === undefined) return undefined;
  return { input, output, cached: count(keys.cached) ?? 0, reasoning: count(keys.reasoning) ?? 0, cacheWrite: count(keys.cacheWrite) };
}

export const codexModelCallKey = (u: CodexUsage): string => `usage:${u.input}/${u.cached}/${u.output}/${u.reasoning}`;

/** A model call view keyed and attributed by its usage. */
export function codexModelCallView(
  usage: CodexUsage,
  parent: SpanRef | undefined,
  model: string | undefined,
  view: ViewFields = {},
): SpanView {
  const attributes = {
    ...usageAttributes({
      input: usage.input,
      output: usage.output,
      cacheRead: usage.cached,
      cacheWrite: usage.cacheWrite,
      reasoning: usage.reasoning,
    }),
    ...view.attributes,
  };
  return modelCallView(codexModelCallKey(usage), parent, CODEX_PROVIDER, model, { ...view, attributes });
}

/** The exit code in the output Codex hands the model for a shell command ("Process exited with code 1"). */
export function codexExitCode(output: string | undefined): number | undefined {
  const m = output === undefined ? null : /^Process exited with code (-?\d+)$/m.exec(output);
  return m ? Number(m[1]) : undefined;
}
