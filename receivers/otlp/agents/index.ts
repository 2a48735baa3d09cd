/**
 * The agent telemetry formats the OTLP receiver knows: a resource one of them owns has its log
 * records and spans turned into session views. Register a format with one line below; each
 * receiver gets its own instances (a format may keep bounded state between requests).
 */
import type { AgentTelemetry } from './agent-telemetry.ts';
import { ClaudeCodeTelemetry } from './claude-code.ts';
import { CodexTelemetry } from './codex.ts';
import { GeminiTelemetry } from './gemini.ts';

const formats: (() => AgentTelemetry)[] = [() => new ClaudeCodeTelemetry(), () => new CodexTelemetry(), () => new GeminiTelemetry()];

export function createAgentTelemetries(): AgentTelemetry[] {
  return formats.map((create) => create());
}

export type { AgentTelemetry } from './agent-telemetry.ts';
