/**
 * Codex CLI: its OTLP exporters in a marked `[otel]` block of ~/.codex/config.toml and command
 * hooks (`agentotel hook --agent codex`) in ~/.codex/hooks.json beside it. Codex has no HTTP
 * hooks, and its exporters take the bearer token as a literal header.
 */
import path from 'node:path';
import { CliError } from './agents.ts';
import { hooksAndBlockInspection, planBlock } from './block-file.ts';
import { readText, type FileChange } from './files.ts';
import { inspectJsonSettings, planJsonSettings } from './json-settings.ts';
import { blockLines, removeBlock } from './marked-block.ts';
import { bearer, COMMAND_HOOK_TIMEOUT_S, type AgentSetup, type Inspection, type Wiring } from './wiring.ts';

/** Hook events of Codex 0.169 that tell of a session (PermissionRequest and PostCompact add nothing). */
export const CODEX_HOOK_EVENTS = [
  'SessionStart',
  'UserPromptSubmit',
  'PreToolUse',
  'PostToolUse',
  'PreCompact',
  'Stop',
  'SubagentStart',
  'SubagentStop',
  'SessionEnd',
] as const;

/** An [otel] table, one of its sub-tables, or a dotted `otel.` key outside agentotel's block. */
const USER_OTEL = /^\s*(\[\s*otel\s*[\].]|otel\s*[.=])/m;

const tomlString = (s: string) => JSON.stringify(s); // JSON's escapes are valid in TOML basic strings

/** One exporter as an inline table; OTLP/HTTP endpoints name the signal's path. */
function exporter(w: Wiring, signal: 'logs' | 'metrics'): string {
  const headers = `headers = { authorization = ${tomlString(bearer(w.token))} }`;
  if (w.protocol === 'grpc') return `{ otlp-grpc = { endpoint = ${tomlString(w.otlpEndpoint)}, ${headers} } }`;
  const endpoint = `${w.otlpEndpoint.replace(/\/$/, '')}/v1/${signal}`;
  const protocol = w.protocol === 'http/json' ? 'json' : 'binary';
  return `{ otlp-http = { endpoint = ${tomlString(endpoint)}, protocol = "${protocol}", ${headers} } }`;
}

function planConfigToml(file: string, before: string | null, w: Wiring | null): FileChange {
  if (w && USER_OTEL.test(removeBlock(before) ?? '')) {
    throw new CliError(
      `${file} already has an [otel] section of its own; agentotel will not replace it. Remove it (or point it at agentotel yourself) and run again (nothing was written)`,
    );
  }
  return planBlock(
    file,
    before,
    'codex',
    w && ['[otel]', `exporter = ${exporter(w, 'logs')}`, `metrics_exporter = ${exporter(w, 'metrics')}`],
  );
}

const hooksFile = (configFile: string) => path.join(path.dirname(configFile), 'hooks.json');

export const codex: AgentSetup = {
  agent: 'codex',
  title: 'Codex',
  settingsFile: (home) => path.join(home, '.codex', 'config.toml'),
  protocols: ['grpc', 'http/protobuf', 'http/json'],
  defaultProtocol: 'http/protobuf',
  hookModes: ['command'],
  hookEvents: CODEX_HOOK_EVENTS,
  takesResourceAttributes: false,
  nextSteps: ['Codex runs new hooks only once you trust them: open codex and review them (/hooks).'],

  async plan(file, w) {
    const toml = planConfigToml(file, await readText(file), w);
    const hooks = await planJsonSettings(
      hooksFile(file),
      'codex',
      w && {
        wiring: w,
        edits: () => ({
          values: [],
          hooks: CODEX_HOOK_EVENTS.map((event) => ({
            event,
            group: { hooks: [{ type: 'command', command: w.hookCommand, timeout: COMMAND_HOOK_TIMEOUT_S }] },
          })),
        }),
      },
    );
    return [toml, ...hooks];
  },

  async inspect(file): Promise<Inspection> {
    const block = blockLines(await readText(file));
    const hooks = await inspectJsonSettings(hooksFile(file), 'codex');
    const problems = [...(block ? [] : [`${file} has no agentotel [otel] block: run agentotel init --agent codex`]), ...hooks.problems];
    return hooksAndBlockInspection([file, hooksFile(file)], hooks, block, problems);
  },
};
