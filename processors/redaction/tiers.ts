/**
 * Which attributes a privacy tier keeps. Content (prompts, responses, system instructions)
 * survives only at tier 3; tool details (arguments, results, commands, file contents) from
 * tier 2. A key ending in `.*` names a prefix (gen_ai.prompt.* covers gen_ai.prompt.0.content).
 */
import type { PrivacyTier } from './config.ts';

export const BUILTIN_CONTENT_KEYS = [
  // OTel GenAI conventions (and their removed predecessors, still emitted by older instrumentations)
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.retrieval.query.text',
  'gen_ai.prompt',
  'gen_ai.completion',
  'gen_ai.prompt.*',
  'gen_ai.completion.*',
  // Claude Code's own spans, events and hook payloads
  'user_prompt',
  'prompt',
  'prompt_text',
  'response',
  'last_assistant_message',
];

export const BUILTIN_TOOL_DETAIL_KEYS = [
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  // Claude Code's own spans, events and hook payloads
  'tool_input',
  'tool_parameters',
  'tool_response',
  'tool_output',
  'full_command',
  'bash_command',
  'command',
  'file_path',
  'output',
  'content',
  'stdout',
  'stderr',
];

class KeySet {
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];

  constructor(keys: string[]) {
    for (const k of keys) {
      if (k.endsWith('.*')) this.prefixes.push(k.slice(0, -1));
      else this.exact.add(k);
    }
  }

  has(key: string): boolean {
    return this.exact.has(key) || this.prefixes.some((p) => key.startsWith(p));
  }
}

export class TierPolicy {
  private readonly dropped: KeySet;

  constructor(tier: PrivacyTier, extraContentKeys: string[], extraToolDetailKeys: string[]) {
    const keys: string[] = [];
    if (tier < 3) keys.push(...BUILTIN_CONTENT_KEYS, ...extraContentKeys);
    if (tier < 2) keys.push(...BUILTIN_TOOL_DETAIL_KEYS, ...extraToolDetailKeys);
    this.dropped = new KeySet(keys);
  }

  drops(key: string): boolean {
    return this.dropped.has(key);
  }
}
