/**
 * `agentotel init`: wires a coding agent to a collector in one command — its hooks and its
 * OpenTelemetry export, in the agent's own settings. Idempotent; keeps the user's settings; a
 * timestamped backup before a file changes; `--uninstall` removes exactly what it added. The
 * ingest token is written where the agent needs it and never printed.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAgentCommand } from './agent-settings/agent-command.ts';
import { CliError, hooksPath, UsageError, type HookMode, type OtlpProtocol } from './agent-settings/agents.ts';
import { resolveEndpoints, type EndpointFlags } from './agent-settings/endpoints.ts';
import { applyChanges, changed, readText, type FileChange } from './agent-settings/files.ts';
import { mergeResourceAttributes, shellCommand, type AgentSetup, type Wiring } from './agent-settings/wiring.ts';
import { bundleHook } from './hook/bundle.ts';
import { tokenFile } from './up.ts';

export const AGENTOTEL_BIN = fileURLToPath(new URL('../bin/agentotel.js', import.meta.url));

export const INIT_USAGE = `usage: agentotel init [options]

Wires a coding agent to agentotel: its hooks and its OpenTelemetry export, in the agent's own
settings. Running it again changes nothing; --uninstall removes exactly what it added.

options:
  --agent <name>          claude-code (default), codex, gemini-cli
  --endpoint <url>        the collector's scheme and host (default http://127.0.0.1; ports 4317 gRPC,
                          4318 OTLP/HTTP, 4319 hooks)
  --otlp-endpoint <url>   the OTLP endpoint, when not on its default port
  --hooks-endpoint <url>  the hooks receiver, when not on its default port (e.g. http://127.0.0.1:14319)
  --token <token>         ingest token (default: $AGENTOTEL_INGEST_TOKEN, else the token \`agentotel up\`
                          keeps in the data dir, $AGENTOTEL_DATA_DIR or ./.data)
  --team <team>           resource attribute team=<team> on all the agent sends
  --user <user>           resource attribute user.email=<user>
  --hooks http|command    Claude Code: http hooks (default, no process per event) or \`agentotel hook\`
                          commands (adds git context, spools to disk while the collector is down);
                          Codex and Gemini CLI run command hooks only
  --protocol <protocol>   grpc | http/protobuf | http/json (default grpc for Claude Code,
                          http/protobuf for Codex, http/json for Gemini CLI)
  --settings <file>       the agent's settings file (default ~/.claude/settings.json,
                          ~/.codex/config.toml, ~/.gemini/settings.json); other files sit beside it
  --uninstall             remove what init added
  --dry-run               print what would change (token masked), write nothing
  -h, --help`;

const TOKEN68 = /^[A-Za-z0-9._~+/=-]+$/;

interface TokenSource {
  token: string;
  /** A file holding it, when it came from one. */
  file?: string;
  describe: string;
}

async function resolveToken(flag: string | undefined): Promise<TokenSource> {
  const source = await (async (): Promise<TokenSource | undefined> => {
    if (flag !== undefined) return { token: flag, describe: '--token' };
    if (process.env.AGENTOTEL_INGEST_TOKEN) return { token: process.env.AGENTOTEL_INGEST_TOKEN, describe: '$AGENTOTEL_INGEST_TOKEN' };
    const file = tokenFile();
    const token = (await readText(file))?.trim();
    return token ? { token, file, describe: file } : undefined;
  })();
  if (!source) {
    throw new CliError(
      `no ingest token: pass --token, set AGENTOTEL_INGEST_TOKEN, or start the collector once (agentotel up creates ${tokenFile()})`,
    );
  }
  if (!TOKEN68.test(source.token))
    throw new UsageError(`the ingest token from ${source.describe} must be letters, digits and -._~+/= only`);
  return source;
}

function choose<T extends string>(flag: string, value: string, choices: readonly T[], title: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} ${value} is not available for ${title}: choose ${choices.join(' or ')}`);
}

type InitValues = Partial<Record<'token' | 'team' | 'user' | 'hooks' | 'protocol', string>>;

/** The wiring the flags ask for, plus the file holding the token for command hooks when none does yet. */
async function resolveWiring(
  setup: AgentSetup,
  endpointFlags: EndpointFlags,
  values: InitValues,
): Promise<{ wiring: Wiring; token: TokenSource; changes: FileChange[] }> {
  const protocol: OtlpProtocol = choose('protocol', values.protocol ?? setup.defaultProtocol, setup.protocols, setup.title);
  const hooks: HookMode = choose('hooks', values.hooks ?? setup.hookModes[0]!, setup.hookModes, setup.title);
  const endpoints = resolveEndpoints(endpointFlags, protocol);
  const token = await resolveToken(values.token);
  const hooksUrl = endpoints.hooks + hooksPath(setup.agent);
  const changes: FileChange[] = [];
  let tokenFileForHooks = token.file;
  if (hooks === 'command' && !tokenFileForHooks) {
    tokenFileForHooks = path.join(os.homedir(), '.agentotel', 'ingest-token');
    changes.push({ file: tokenFileForHooks, before: await readText(tokenFileForHooks), after: `${token.token}\n`, backup: false });
  }
  const hookArgs = ['hook', '--agent', setup.agent, '--url', hooksUrl, ...(tokenFileForHooks ? ['--token-file', tokenFileForHooks] : [])];
  const resourceAttributes: [string, string][] = [];
  if (values.team) resourceAttributes.push(['team', values.team]);
  if (values.user) resourceAttributes.push(['user.email', values.user]);
  const wiring: Wiring = {
    agent: setup.agent,
    protocol,
    otlpEndpoint: endpoints.otlp,
    hooksUrl,
    hooks,
    token: token.token,
    hookCommand: shellCommand([process.execPath, AGENTOTEL_BIN, ...hookArgs]),
    resourceAttributes,
  };
  return { wiring, token, changes };
}

function resourceAttributesLine(setup: AgentSetup, w: Wiring): string[] {
  if (w.resourceAttributes.length === 0) return [];
  const pairs = mergeResourceAttributes(undefined, w.resourceAttributes);
  if (setup.takesResourceAttributes) return [`  resource attributes  ${pairs}`];
  return [`  resource attributes  not in ${setup.title}'s settings: export OTEL_RESOURCE_ATTRIBUTES='${pairs}' where it runs`];
}

function verb(c: FileChange, dryRun: boolean): string {
  const done = c.after === null ? 'removed' : c.before === null ? 'created' : 'updated';
  return dryRun ? `would be ${done}` : done;
}

function report(
  setup: AgentSetup,
  file: string,
  plan: { wiring: Wiring | null; token?: TokenSource; changes: FileChange[] },
  dryRun: boolean,
  backups: Map<string, string>,
): string[] {
  const mask = (text: string) => (plan.wiring ? text.split(plan.wiring.token).join('****') : text);
  const todo = plan.changes.filter(changed);
  const w = plan.wiring;
  if (todo.length === 0) {
    return [
      w
        ? `${setup.title} is already wired as asked: nothing changed (${file}).`
        : `${setup.title}: nothing of agentotel's to remove in ${file}.`,
    ];
  }
  const lines = w
    ? [
        `${setup.title} → agentotel (${file})`,
        `  hooks  ${setup.hookEvents.length} events → ${w.hooksUrl} (${w.hooks} hooks)`,
        `  OTLP   ${w.protocol} → ${w.otlpEndpoint}, ingest token from ${plan.token!.describe}`,
        ...resourceAttributesLine(setup, w),
      ]
    : [`${setup.title}: agentotel's wiring removed (${file})`];
  lines.push('files:');
  for (const c of todo) {
    const backup = backups.get(c.file);
    lines.push(`  ${verb(c, dryRun)} ${c.file}${backup ? ` (backup ${backup})` : ''}`);
  }
  if (dryRun) {
    for (const c of todo) lines.push('', `--- ${c.file} (${verb(c, true)})`, ...(c.after === null ? [] : [mask(c.after).trimEnd()]));
    lines.push('', '(dry run: nothing written)');
  } else if (w) {
    lines.push('next:', ...setup.nextSteps.map((s) => `  ${s}`), `  Check the wiring: agentotel status --agent ${setup.agent}`);
  }
  return lines.map(mask);
}

export async function runInit(argv: string[]): Promise<number> {
  const options = {
    token: { type: 'string' },
    team: { type: 'string' },
    user: { type: 'string' },
    hooks: { type: 'string' },
    protocol: { type: 'string' },
    uninstall: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  } as const;
  return runAgentCommand('init', INIT_USAGE, argv, options, async ({ setup, file, endpoints }, values) => {
    const wanted = values.uninstall ? undefined : await resolveWiring(setup, endpoints, values);
    const changes = [...(await setup.plan(file, wanted?.wiring ?? null)), ...(wanted?.changes ?? [])];
    const dryRun = values['dry-run'] ?? false;
    const backups = dryRun ? new Map<string, string>() : await applyChanges(changes);
    if (!dryRun && wanted?.wiring.hooks === 'command') await bundleHook(); // the first hook starts fast too
    const plan = { wiring: wanted?.wiring ?? null, token: wanted?.token, changes };
    console.log(report(setup, file, plan, dryRun, backups).join('\n'));
    return 0;
  });
}
