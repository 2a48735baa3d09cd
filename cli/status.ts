/**
 * `agentotel status`: is this agent wired, and does the collector take what it sends? Checks
 * the agent's settings (agentotel's hooks and telemetry wiring, the token) and the collector
 * with that very token (OTLP, hooks endpoint, health), prints a checklist with what to do, and
 * exits 0 only when all is well.
 */
import { runAgentCommand } from './agent-settings/agent-command.ts';
import { DEFAULT_PORTS, hooksPath } from './agent-settings/agents.ts';
import { resolveEndpoints, type EndpointFlags } from './agent-settings/endpoints.ts';
import { readText } from './agent-settings/files.ts';
import type { AgentSetup, Inspection } from './agent-settings/wiring.ts';
import { probeHealth, probeHooks, probeOtlp } from './status/probes.ts';
import { tokenFile } from './up.ts';

export const STATUS_USAGE = `usage: agentotel status [options]

Checks an agent's wiring (agentotel init) and the collector it points at, with its token.
Exit code 0 only when every check passes.

options:
  --agent <name>              claude-code (default), codex, gemini-cli
  --settings <file>           the agent's settings file (as given to init)
  --endpoint, --otlp-endpoint, --hooks-endpoint <url>
                              where to look when the agent is not wired (as for init)
  --telemetry-address <h:p>   the collector's /healthz (default: the OTLP host, port 8888)
  --json                      print the checks as JSON
  -h, --help`;

export interface Check {
  id: 'settings' | 'token' | 'otlp' | 'hooks' | 'health';
  ok: boolean;
  summary: string;
  /** What to do when it fails. */
  fix?: string;
}

const START_COLLECTOR = 'start the collector (agentotel up), or point the agent at a running one (agentotel init --endpoint …)';
const REINIT = (agent: string) =>
  `run agentotel init --agent ${agent} again (with the collector's token: --token, or the data dir of agentotel up)`;

async function inspect(setup: AgentSetup, file: string): Promise<Inspection> {
  try {
    return await setup.inspect(file);
  } catch (err) {
    return { files: [file], wired: false, problems: [(err as Error).message], wiredHookEvents: 0 };
  }
}

/** The token to probe with when the settings hold none: the one init would use. */
async function fallbackToken(): Promise<string | undefined> {
  return process.env.AGENTOTEL_INGEST_TOKEN || (await readText(tokenFile()))?.trim() || undefined;
}

export async function statusChecks(
  setup: AgentSetup,
  file: string,
  flags: EndpointFlags & { telemetryAddress?: string },
): Promise<Check[]> {
  const found = await inspect(setup, file);
  const agent = setup.agent;
  const protocol = found.wiring?.protocol ?? setup.defaultProtocol;
  const defaults = resolveEndpoints(flags, protocol);
  const otlp = flags.otlpEndpoint || flags.endpoint ? defaults.otlp : (found.wiring?.otlpEndpoint ?? defaults.otlp);
  const hooksUrl =
    flags.hooksEndpoint || flags.endpoint
      ? defaults.hooks + hooksPath(agent)
      : (found.wiring?.hooksUrl ?? defaults.hooks + hooksPath(agent));
  const telemetry = flags.telemetryAddress ?? `${new URL(otlp).hostname}:${DEFAULT_PORTS.telemetry}`;
  const token = found.token ?? (await fallbackToken());

  const [otlpProbe, hooksProbe, healthProbe] = await Promise.all([
    probeOtlp(protocol, otlp, token),
    probeHooks(hooksUrl, token),
    probeHealth(telemetry),
  ]);
  const tokenFix = otlpProbe.what.startsWith('rejects') || hooksProbe.what.startsWith('rejects') ? REINIT(agent) : START_COLLECTOR;
  return [
    found.wired
      ? {
          id: 'settings',
          ok: true,
          summary: `${found.files.join(', ')}: ${found.wiredHookEvents} hook events (${found.wiring!.hooks} hooks), OTLP ${protocol} → ${otlp}`,
        }
      : { id: 'settings', ok: false, summary: found.problems.join('; '), fix: `run agentotel init --agent ${agent}` },
    found.token
      ? { id: 'token', ok: true, summary: "in the agent's settings" }
      : { id: 'token', ok: false, summary: "no ingest token in the agent's settings", fix: `run agentotel init --agent ${agent}` },
    { id: 'otlp', ok: otlpProbe.ok, summary: `${protocol} ${otlp}: ${otlpProbe.what}`, ...(otlpProbe.ok ? {} : { fix: tokenFix }) },
    { id: 'hooks', ok: hooksProbe.ok, summary: `${hooksUrl}: ${hooksProbe.what}`, ...(hooksProbe.ok ? {} : { fix: tokenFix }) },
    {
      id: 'health',
      ok: healthProbe.ok,
      summary: `http://${telemetry}/healthz: ${healthProbe.what}`,
      ...(healthProbe.ok ? {} : { fix: START_COLLECTOR }),
    },
  ];
}

const LABELS: Record<Check['id'], string> = { settings: 'settings', token: 'token', otlp: 'OTLP', hooks: 'hooks', health: 'health' };

function checklist(title: string, checks: Check[]): string {
  const lines = [`agentotel status: ${title}`];
  for (const c of checks) {
    lines.push(`  ${c.ok ? '✓' : '✗'} ${LABELS[c.id].padEnd(8)} ${c.summary}`);
    if (c.fix) lines.push(`    ${' '.repeat(9)}→ ${c.fix}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? 'All good.' : `${failed} of ${checks.length} checks failed.`);
  return lines.join('\n');
}

export async function runStatus(argv: string[]): Promise<number> {
  const options = { 'telemetry-address': { type: 'string' }, json: { type: 'boolean' } } as const;
  return runAgentCommand('status', STATUS_USAGE, argv, options, async ({ setup, file, endpoints }, values) => {
    const checks = await statusChecks(setup, file, { ...endpoints, telemetryAddress: values['telemetry-address'] });
    const ok = checks.every((c) => c.ok);
    console.log(values.json ? JSON.stringify({ agent: setup.agent, ok, checks }) : checklist(setup.title, checks));
    return ok ? 0 : 1;
  });
}
