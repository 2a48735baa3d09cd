/**
 * Pointing Claude Code at a running agentotel the way `agentotel init` does: ~/.claude/settings.json
 * with http hooks to the hooks receiver and the OTEL_* env block for the OTLP receiver.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OtlpProtocol } from '../helpers/otel-sdk.ts';

export interface Wiring {
  settingsFile: string;
  /** http://host:port of the OTLP receiver for the protocol (gRPC or HTTP port). */
  otlpEndpoint: string;
  /** Full URL of the hooks endpoint (http://host:port/v1/hooks). */
  hooksUrl: string;
  token: string;
  protocol: OtlpProtocol;
  team: string;
  user: string;
}

const TOOL_EVENTS = ['PreToolUse', 'PostToolUse', 'PostToolUseFailure'];
const SESSION_EVENTS = ['SessionStart', 'UserPromptSubmit', 'SubagentStart', 'SubagentStop', 'Stop', 'StopFailure', 'SessionEnd'];
const TOKEN_VAR = 'AGENTOTEL_INGEST_TOKEN';

/** Writes the settings file (replacing it: the test owns this HOME). */
export function wireClaudeCode(w: Wiring): void {
  const hook = {
    type: 'http',
    url: w.hooksUrl,
    headers: { Authorization: `Bearer $${TOKEN_VAR}` },
    allowedEnvVars: [TOKEN_VAR],
    timeout: 5,
  };
  const hooks: Record<string, unknown[]> = {};
  for (const e of TOOL_EVENTS) hooks[e] = [{ matcher: '*', hooks: [hook] }];
  for (const e of SESSION_EVENTS) hooks[e] = [{ hooks: [hook] }];
  const env = {
    [TOKEN_VAR]: w.token,
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: w.protocol,
    OTEL_EXPORTER_OTLP_ENDPOINT: w.otlpEndpoint,
    OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${w.token}`,
    OTEL_RESOURCE_ATTRIBUTES: `team=${w.team},user.email=${w.user}`,
  };
  mkdirSync(path.dirname(w.settingsFile), { recursive: true });
  writeFileSync(w.settingsFile, JSON.stringify({ env, hooks }, null, 2) + '\n');
}
