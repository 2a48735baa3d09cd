/**
 * Gemini CLI: the `telemetry` block and command hooks in ~/.gemini/settings.json, and the
 * exporters' bearer token in a marked block of ~/.gemini/.env beside it. Gemini's settings have
 * no OTLP headers; its OpenTelemetry SDK reads OTEL_EXPORTER_OTLP_HEADERS, and the CLI loads
 * ~/.gemini/.env into its environment when the project has no .env of its own.
 */
import path from 'node:path';
import { hooksAndBlockInspection, planBlock } from './block-file.ts';
import { readText } from './files.ts';
import { inspectJsonSettings, planJsonSettings } from './json-settings.ts';
import { blockLines } from './marked-block.ts';
import { bearer, COMMAND_HOOK_TIMEOUT_S, mergeResourceAttributes, type AgentSetup, type Inspection, type Wiring } from './wiring.ts';

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

const envFile = (settingsFile: string) => path.join(path.dirname(settingsFile), '.env');
const dotenvLine = (key: string, value: string) => `${key}=${JSON.stringify(value)}`;

/** The .env lines: the exporters' bearer token, and the resource attributes when given. */
function envLines(w: Wiring): string[] {
  const lines = [dotenvLine('OTEL_EXPORTER_OTLP_HEADERS', `Authorization=${bearer(w.token)}`)];
  if (w.resourceAttributes.length > 0)
    lines.push(dotenvLine('OTEL_RESOURCE_ATTRIBUTES', mergeResourceAttributes(undefined, w.resourceAttributes)));
  return lines;
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
        wiring: w,
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
              hooks: [
                { name: `agentotel-${event}`, type: 'command', command: w.hookCommand, timeout: COMMAND_HOOK_TIMEOUT_S * 1000 /* ms */ },
              ],
            },
          })),
        }),
      },
    );
    return [...settings, planBlock(envFile(file), await readText(envFile(file)), 'gemini-cli', w && envLines(w))];
  },

  async inspect(file): Promise<Inspection> {
    const settings = await inspectJsonSettings(file, 'gemini-cli');
    const block = blockLines(await readText(envFile(file)));
    const problems = [
      ...settings.problems,
      ...(block ? [] : [`${envFile(file)} has no agentotel block: run agentotel init --agent gemini-cli`]),
    ];
    return hooksAndBlockInspection([file, envFile(file)], settings, block, problems);
  },
};
