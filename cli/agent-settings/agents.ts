/**
 * What `agentotel init`, `hook` and `status` share about the agents: their names, where a
 * collector listens by default, and the hooks receiver path of each agent's payloads.
 */
import type { AgentName } from '../../core/agent/session-spans.ts';

export const AGENT_NAMES: readonly AgentName[] = ['claude-code', 'codex', 'gemini-cli'];

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

/** `http`: the agent POSTs each payload itself; `command`: it runs `agentotel hook` (git context, disk spool). */
export type HookMode = 'http' | 'command';

/** The ports of a collector started with the default config (config/agentotel.yaml). */
export const DEFAULT_PORTS = { grpc: 4317, http: 4318, hooks: 4319, telemetry: 8888 } as const;
export const DEFAULT_HOST_URL = 'http://127.0.0.1';

/** Path of an agent's hook payloads on the hooks receiver (POST /v1/hooks is Claude Code). */
export function hooksPath(agent: AgentName): string {
  return agent === 'claude-code' ? '/v1/hooks' : `/v1/hooks/${agent}`;
}

/** A command line the user got wrong: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A problem with the machine's state (a malformed settings file, no token): printed, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export function parseAgent(value: string | undefined): AgentName {
  if (value === undefined) return 'claude-code';
  if ((AGENT_NAMES as readonly string[]).includes(value)) return value as AgentName;
  throw new UsageError(`--agent must be one of ${AGENT_NAMES.join(', ')} (got ${JSON.stringify(value)})`);
}

/** Prints a command's error: usage errors with the usage (exit 2), the machine's problems alone (exit 1). */
export function reportError(command: string, usage: string, err: unknown): number {
  const parseError = err instanceof TypeError && String((err as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
  if (err instanceof UsageError || parseError) {
    console.error(`agentotel ${command}: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (err instanceof CliError) {
    console.error(`agentotel ${command}: ${err.message}`);
    return 1;
  }
  throw err;
}
