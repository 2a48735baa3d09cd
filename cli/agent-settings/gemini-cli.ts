/**
 * Gemini CLI: the `telemetry` block and command hooks in ~/.gemini/settings.json, and the
 * exporters' bearer token in a marked block of ~/.gemini/.env beside it. Gemini's settings have
 * no OTLP headers; its OpenTelemetry SDK reads OTEL_EXPORTER_OTLP_HEADERS, and the CLI loads
 * ~/.gemini/.env into its environment when the project has no .env of its own.
 */
import path from 'node:path';
import { readText, type FileChange } from './files.ts';
import { inspectJsonSettings, planJsonSettings } from './json-settings.ts';
import { blockLines, removeBlock, upsertBlock } from './marked-block.ts';
import { bearer, mergeResourceAttributes, type AgentSetup, type Inspection, type Wiring } from './wiring.ts';

/**
 * Hook events of Gemini CLI 0.61 that tell of a session. BeforeModel, AfterModel and
 * BeforeToolSelection are left out: they fire per streamed chunk, a process each, and the
 * model calls arrive through OTLP anyway.
 */
export const GEMINI_CLI_HOOK_EVENTS = [
  'SessionStart',
  'BeforeAgent',
  'AfterAgent',
  'BeforeTool',
  'AfterTool',
  'PreCompress',
  'Notification',
  'SessionEnd',
] as const;

const COMMAND_HOOK_TIMEOUT_MS = 10_000;
const BLOCK_TITLE = 'written by `agentotel init --agent gemini-cli`; `agentotel init --agent gemini-cli --uninstall` removes it';

const envFile = (settingsFile: string) => path.join(path.dirname(settingsFile), '.env');
const dotenvLine = (key: string, value: string) => `${key}=${JSON.stringify(value)}`;

function planEnvFile(file: string, before: string | null, w: Wiring | null): FileChange {
  if (!w) return { file, before, after: removeBlock(before), backup: true };
  const lines = [dotenvLine('OTEL_EXPORTER_OTLP_HEADERS', `Authorization=${bearer(w.token)}`)];
  if (w.resourceAttributes.length > 0)
    lines.push(dotenvLine('OTEL_RESOURCE_ATTRIBUTES', mergeResourceAttributes(undefined, w.resourceAttributes)));
  return { file, before, after: upsertBlock(before, BLOCK_TITLE, lines), backup: true };
}

export const geminiCli: AgentSetup = {
  agent: 'gemini-cli',
  title: 'Gemini CLI',
  settingsFile: (home) => path.join(home, '.gemini', 'settings.json'),
  // Gemini CLI sends OTLP/HTTP as JSON only.
  protocols: ['grpc', 'http/json'],
  defaultProtocol: 'http/json',
  hookModes: ['command'],
  hookEvents: GEMINI_CLI_HOOK_EVENTS,
  takesResourceAttributes: true,
  nextSteps: [
    'Restart Gemini CLI. It reads ~/.gemini/.env only when the project has no .env (or .gemini/.env) of its own; there, add the lines of ~/.gemini/.env.',
  ],

  async plan(file, w) {
    const settings = await planJsonSettings(
      file,
      'gemini-cli',
      w && {
        wiring: { protocol: w.protocol, otlpEndpoint: w.otlpEndpoint, hooksUrl: w.hooksUrl, hooks: w.hooks },
        edits: () => ({
          values: [
            { path: ['telemetry', 'enabled'], value: true },
            { path: ['telemetry', 'target'], value: 'local' },
            { path: ['telemetry', 'otlpEndpoint'], value: w.otlpEndpoint },
            { path: ['telemetry', 'otlpProtocol'], value: w.protocol === 'grpc' ? 'grpc' : 'http' },
          ],
          hooks: GEMINI_CLI_HOOK_EVENTS.map((event) => ({
            event,
            group: {
              matcher: '*',
              hooks: [{ name: `agentotel-${event}`, type: 'command', command: w.hookCommand, timeout: COMMAND_HOOK_TIMEOUT_MS }],
            },
          })),
        }),
      },
    );
    return [...settings, planEnvFile(envFile(file), await readText(envFile(file)), w)];
  },

  async inspect(file): Promise<Inspection> {
    const settings = await inspectJsonSettings(file, 'gemini-cli');
    const block = blockLines(await readText(envFile(file)));
    const problems = [
      ...settings.problems,
      ...(block ? [] : [`${envFile(file)} has no agentotel block: run agentotel init --agent gemini-cli`]),
    ];
    const token = block?.map((l) => /Bearer ([^"]+)"/.exec(l)?.[1]).find(Boolean);
    return {
      files: [file, envFile(file)],
      wired: !!block && !!settings.record && problems.length === 0,
      problems,
      wiring: settings.record?.wiring,
      token,
      wiredHookEvents: settings.wiredHookEvents,
    };
  },
};
