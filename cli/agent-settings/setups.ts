/** Each agent's settings module, by agent name. */
import type { AgentName } from '../../core/agent/session-spans.ts';
import { claudeCode } from './claude-code.ts';
import { codex } from './codex.ts';
import { geminiCli } from './gemini-cli.ts';
import type { AgentSetup } from './wiring.ts';

export const agentSetups: Record<AgentName, AgentSetup> = { 'claude-code': claudeCode, codex, 'gemini-cli': geminiCli };
