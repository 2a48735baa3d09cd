/**
 * The wiring of one agent to a collector, as `agentotel init` resolved it from its flags, and
 * the interface each agent's settings module implements (plan the file changes, inspect them).
 */
import type { AgentName } from '../../core/agent/session-spans.ts';
import type { HookMode, OtlpProtocol } from './agents.ts';
import type { FileChange } from './files.ts';

export interface Wiring {
  agent: AgentName;
  protocol: OtlpProtocol;
  /** Where the agent exports OTLP: http://host:4317 for gRPC, http://host:4318 for OTLP/HTTP. */
  otlpEndpoint: string;
  /** Where its hook payloads go, e.g. http://127.0.0.1:4319/v1/hooks. */
  hooksUrl: string;
  hooks: HookMode;
  /** The ingest token (a secret: written to the agent's settings, never printed). */
  token: string;
  /** Shell command of a command hook: `agentotel hook` for this agent. */
  hookCommand: string;
  /** Resource attributes every record carries (team, user.email): only those given. */
  resourceAttributes: [string, string][];
}

/** What an install record keeps of the wiring (no secret), for `agentotel status`. */
export type RecordedWiring = Pick<Wiring, 'protocol' | 'otlpEndpoint' | 'hooksUrl' | 'hooks'>;

export const recordedWiring = (w: Wiring): RecordedWiring => ({
  protocol: w.protocol,
  otlpEndpoint: w.otlpEndpoint,
  hooksUrl: w.hooksUrl,
  hooks: w.hooks,
});

/** Seconds an agent waits for a command hook: `agentotel hook` bounds itself at 200 ms of work; this covers starting node on a busy machine. */
export const COMMAND_HOOK_TIMEOUT_S = 10;

export interface Inspection {
  /** The files the agent's wiring lives in. */
  files: string[];
  /** agentotel's wiring is there, complete and unchanged. */
  wired: boolean;
  /** Why not, as readable lines. */
  problems: string[];
  wiring?: RecordedWiring;
  /** The ingest token the agent will send, when the wiring holds one. */
  token?: string;
  /** How many hook events are wired. */
  wiredHookEvents: number;
}

export interface AgentSetup {
  agent: AgentName;
  title: string;
  /** The agent's main settings file under `home` (`--settings` replaces it; other files sit beside it). */
  settingsFile(home: string): string;
  protocols: readonly OtlpProtocol[];
  defaultProtocol: OtlpProtocol;
  hookModes: readonly HookMode[];
  /** The hook events wired. */
  hookEvents: readonly string[];
  /** Whether its settings can carry resource attributes (team, user). */
  takesResourceAttributes: boolean;
  /** The changes that wire the agent, or unwire it when `wiring` is null. */
  plan(settingsFile: string, wiring: Wiring | null): Promise<FileChange[]>;
  inspect(settingsFile: string): Promise<Inspection>;
  /** What the user still has to do after `init`. */
  nextSteps: string[];
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** Percent-encodes what may not stand in an OTEL_RESOURCE_ATTRIBUTES value (W3C baggage octets), and nothing else. */
const encodeValue = (v: string) => v.replace(/[^\x21-\x7e]|[%,;=\\"]/gu, (c) => encodeURIComponent(c));

/** OTEL_RESOURCE_ATTRIBUTES with `attributes` set over the pairs `existing` already has. */
export function mergeResourceAttributes(existing: string | undefined, attributes: [string, string][]): string {
  const pairs = (existing ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.includes('=') && !attributes.some(([k]) => p.slice(0, p.indexOf('=')).trim() === k));
  return [...pairs, ...attributes.map(([k, v]) => `${k}=${encodeValue(v)}`)].join(',');
}

/** Joins arguments into a POSIX shell command line, quoting where needed. */
export function shellCommand(args: string[]): string {
  return args.map((a) => (/^[\w/.:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
