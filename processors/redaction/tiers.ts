/**
 * What a privacy tier keeps, by attribute key (on spans, span events, links, resources and
 * log records, and keys nested in map values):
 *
 *   tier 1  metadata only: no prompts, responses, tool arguments or tool output
 *   tier 2  + tool details: the arguments of tool calls (commands, file paths, edits and their diffs)
 *   tier 3  + content: prompts, responses, system instructions, tool output
 *
 * Keys of the OTel GenAI conventions, of the agents' own telemetry and hooks (Claude Code, Codex,
 * Gemini CLI) and of common LLM instrumentations (OpenInference, OpenLLMetry, Vercel AI SDK). A
 * `*` in a key matches any characters (gen_ai.prompt.*.content).
 */
import type { PrivacyTier } from './config.ts';

/** Kept at tier 3 only. */
export const BUILTIN_CONTENT_KEYS = [
  // OTel GenAI conventions, and their predecessors still emitted by older instrumentations
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.call.result',
  'gen_ai.retrieval.query.text',
  'gen_ai.retrieval.documents',
  'gen_ai.prompt',
  'gen_ai.completion',
  'gen_ai.prompt.*.content',
  'gen_ai.completion.*.content',
  // Claude Code (hooks, OTel events and spans)
  'user_prompt',
  'prompt',
  'prompt_text',
  'response',
  'last_assistant_message',
  'tool_response',
  'tool_output',
  'tool_result',
  'output',
  'content',
  'stdout',
  'stderr',
  // Codex and Gemini CLI
  'last_agent_message',
  'request_text',
  'response_text',
  'hook_input',
  'hook_output',
  'reasoning',
  'process.command_args',
  'process.command_line',
  // OpenInference, OpenLLMetry, Vercel AI SDK
  'input.value',
  'output.value',
  'llm.input_messages*',
  'llm.output_messages*',
  'llm.prompts*',
  'traceloop.entity.input',
  'traceloop.entity.output',
  'ai.prompt*',
  'ai.response.text',
  'ai.response.object',
  'ai.toolCall.result',
];

/** Kept from tier 2. */
export const BUILTIN_TOOL_DETAIL_KEYS = [
  'gen_ai.tool.call.arguments',
  // Claude Code
  'tool_input',
  'tool_parameters',
  'full_command',
  'bash_command',
  'command',
  'file_path',
  // Codex and Gemini CLI
  'arguments',
  'function_args',
  'cmd',
  // OpenInference, Vercel AI SDK
  'tool.parameters',
  'ai.toolCall.args',
];

const escapeRegex = (s: string): string => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');

/** A set of keys with `*` wildcards, as one anchored regex; answers are cached per key (keys repeat). */
class KeySet {
  private readonly regex: RegExp;
  private readonly cache = new Map<string, boolean>();

  constructor(keys: string[]) {
    this.regex = new RegExp(`^(?:${keys.map((k) => escapeRegex(k).replace(/\*/g, '.*')).join('|')})$`);
  }

  has(key: string): boolean {
    let hit = this.cache.get(key);
    if (hit === undefined) {
      hit = this.regex.test(key);
      // Bounded: keys are a small vocabulary, but a sender could make up any number.
      if (this.cache.size < 10_000) this.cache.set(key, hit);
    }
    return hit;
  }
}

export class TierPolicy {
  private readonly content: KeySet;
  private readonly toolDetails: KeySet;

  constructor(extraContentKeys: string[], extraToolDetailKeys: string[]) {
    this.content = new KeySet([...BUILTIN_CONTENT_KEYS, ...extraContentKeys]);
    this.toolDetails = new KeySet([...BUILTIN_TOOL_DETAIL_KEYS, ...extraToolDetailKeys]);
  }

  /** True when an attribute with this key is dropped at the tier. */
  drops(key: string, tier: PrivacyTier): boolean {
    if (tier === 3) return false;
    return this.content.has(key) || (tier === 1 && this.toolDetails.has(key));
  }
}
