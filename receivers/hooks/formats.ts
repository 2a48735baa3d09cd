/**
 * The hook formats this receiver understands, by the agent named in the path
 * (POST /v1/hooks/{agent}; POST /v1/hooks is Claude Code). One line per agent.
 */
import type { AgentName } from '../../core/agent/session-spans.ts';
import { claudeCodeHooks } from './claude-code.ts';
import { codexHooks } from './codex.ts';
import { geminiHooks } from './gemini.ts';
import type { HookFormat } from './hook-format.ts';

export const hookFormats: Partial<Record<AgentName, HookFormat>> = {
  'claude-code': claudeCodeHooks,
  codex: codexHooks,
  'gemini-cli': geminiHooks,
};

export const DEFAULT_AGENT: AgentName = 'claude-code';
export const AGENTS: readonly AgentName[] = ['claude-code', 'codex', 'gemini-cli'];
