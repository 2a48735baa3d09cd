/**
 * Claude Code: hooks for every event of the current CLI and the telemetry environment, both in
 * ~/.claude/settings.json. HTTP hooks by default: Claude Code POSTs each payload to the hooks
 * receiver itself, the bearer token read from AGENTOTEL_INGEST_TOKEN of the settings' env.
 */
import path from 'node:path';
import { isObject, type JsonObject } from './json-edits.ts';
import { inspectJsonSettings, planJsonSettings } from './json-settings.ts';
import { bearer, COMMAND_HOOK_TIMEOUT_S, mergeResourceAttributes, type AgentSetup, type Inspection, type Wiring } from './wiring.ts';

/** The hook events of Claude Code 2.1.x that tell of a session (see the fixtures' captures). */
export const CLAUDE_CODE_HOOK_EVENTS = [
  'SessionStart',
  'UserPromptSubmit',
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'PostToolBatch',
  'SubagentStart',
  'SubagentStop',
  'Stop',
  'StopFailure',
  'PreCompact',
  'Notification',
  'MessageDisplay',
  'SessionEnd',
] as const;

const TOKEN_VAR = 'AGENTOTEL_INGEST_TOKEN';
/**
 * OTEL_RESOURCE_ATTRIBUTES again, for the hooks' header: Claude Code keeps the OTEL_* variables of
 * its settings for its exporters and leaves them empty in hook headers (seen with CLI 2.1.328).
 */
const RESOURCE_VAR = 'AGENTOTEL_RESOURCE_ATTRIBUTES';
/** Seconds Claude Code waits for a hook: the receiver answers at once, so only a hung collector ever reaches it. */
const HTTP_HOOK_TIMEOUT_S = 1;

/** Events Claude Code runs only as command hooks (an http hook on them is never called). */
const COMMAND_ONLY_EVENTS: ReadonlySet<string> = new Set(['SessionStart']);

function hookHandler(w: Wiring, event: string): JsonObject {
  if (w.hooks === 'command' || COMMAND_ONLY_EVENTS.has(event)) {
    return { type: 'command', command: w.hookCommand, timeout: COMMAND_HOOK_TIMEOUT_S };
  }
  return {
    type: 'http',
    url: w.hooksUrl,
    // The team and user of OTEL_RESOURCE_ATTRIBUTES travel with each hook, so that spans only
    // hooks and the transcript know (a subagent's) are attributed too.
    headers: { Authorization: `Bearer $${TOKEN_VAR}`, 'X-Agentotel-Resource-Attributes': `$${RESOURCE_VAR}` },
    allowedEnvVars: [TOKEN_VAR, RESOURCE_VAR],
    timeout: HTTP_HOOK_TIMEOUT_S,
  };
}

function telemetryEnv(w: Wiring, env: JsonObject | undefined): [string, string][] {
  const existing = env?.OTEL_RESOURCE_ATTRIBUTES;
  const resourceAttributes =
    w.resourceAttributes.length > 0
      ? mergeResourceAttributes(typeof existing === 'string' ? existing : undefined, w.resourceAttributes)
      : undefined;
  return [
    ['CLAUDE_CODE_ENABLE_TELEMETRY', '1'],
    ['OTEL_METRICS_EXPORTER', 'otlp'],
    ['OTEL_LOGS_EXPORTER', 'otlp'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', w.protocol],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', w.otlpEndpoint],
    ['OTEL_EXPORTER_OTLP_HEADERS', `Authorization=${bearer(w.token)}`],
    ...(resourceAttributes
      ? [['OTEL_RESOURCE_ATTRIBUTES', resourceAttributes] as [string, string], [RESOURCE_VAR, resourceAttributes] as [string, string]]
      : []),
    [TOKEN_VAR, w.token],
  ];
}

export const claudeCode: AgentSetup = {
  agent: 'claude-code',
  title: 'Claude Code',
  settingsFile: (home) => path.join(home, '.claude', 'settings.json'),
  protocols: ['grpc', 'http/protobuf', 'http/json'],
  defaultProtocol: 'grpc',
  hookModes: ['http', 'command'],
  hookEvents: CLAUDE_CODE_HOOK_EVENTS,
  takesResourceAttributes: true,
  nextSteps: ['Restart Claude Code: it reads its settings at start.'],

  plan(file, w) {
    return planJsonSettings(
      file,
      'claude-code',
      w && {
        wiring: w,
        edits: (doc) => ({
          values: telemetryEnv(w, isObject(doc.env) ? doc.env : undefined).map(([k, v]) => ({ path: ['env', k], value: v })),
          hooks: CLAUDE_CODE_HOOK_EVENTS.map((event) => ({ event, group: { matcher: '*', hooks: [hookHandler(w, event)] } })),
        }),
      },
    );
  },

  async inspect(file): Promise<Inspection> {
    const { doc, record, problems, wiredHookEvents } = await inspectJsonSettings(file, 'claude-code');
    const token = isObject(doc.env) && typeof doc.env[TOKEN_VAR] === 'string' ? doc.env[TOKEN_VAR] : undefined;
    return { files: [file], wired: !!record && problems.length === 0, problems, wiring: record?.wiring, token, wiredHookEvents };
  },
};
