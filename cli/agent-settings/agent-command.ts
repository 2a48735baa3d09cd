/**
 * What `agentotel init` and `agentotel status` share on their command line: the agent, its
 * settings file, where the collector listens and --help; errors printed as reportError says.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { parseAgent, reportError } from './agents.ts';
import type { EndpointFlags } from './endpoints.ts';
import { agentSetups } from './setups.ts';
import type { AgentSetup } from './wiring.ts';

const AGENT_OPTIONS = {
  agent: { type: 'string' },
  settings: { type: 'string' },
  endpoint: { type: 'string' },
  'otlp-endpoint': { type: 'string' },
  'hooks-endpoint': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** The values parseArgs gives for `options`. */
type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O }>>['values'];

export interface AgentTarget {
  setup: AgentSetup;
  /** The agent's settings file: --settings, else its default under the home directory. */
  file: string;
  endpoints: EndpointFlags;
}

/** Parses `argv` with the shared options and the command's own, prints `usage` on --help, else runs the command. */
export async function runAgentCommand<O extends ParseArgsOptionsConfig>(
  command: string,
  usage: string,
  argv: string[],
  options: O,
  run: (target: AgentTarget, values: Values<O>) => Promise<number>,
): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: { ...AGENT_OPTIONS, ...options } });
    const shared = values as Values<typeof AGENT_OPTIONS>;
    if (shared.help) {
      console.log(usage);
      return 0;
    }
    const setup = agentSetups[parseAgent(shared.agent)];
    const file = path.resolve(shared.settings ?? setup.settingsFile(os.homedir()));
    const endpoints = { endpoint: shared.endpoint, otlpEndpoint: shared['otlp-endpoint'], hooksEndpoint: shared['hooks-endpoint'] };
    return await run({ setup, file, endpoints }, values as Values<O>);
  } catch (err) {
    return reportError(command, usage, err);
  }
}
