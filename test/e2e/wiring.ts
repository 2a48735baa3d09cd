/**
 * Pointing an agent at a running agentotel with `agentotel init`, as a user does: it writes the
 * agent's settings (hooks to the hooks receiver, the OTLP export). Run again with another
 * protocol, it updates the same files.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AgentName } from '../../core/agent/session-spans.ts';
import type { OtlpProtocol } from '../helpers/otel-sdk.ts';
import { repoRoot } from '../helpers/pipeline.ts';

export interface Wiring {
  agent: AgentName;
  /** The CLI's HOME. */
  home: string;
  /** The agent's settings file (init's --settings). */
  settings: string;
  /** http://host:port of the OTLP receiver for the protocol (gRPC or HTTP port). */
  otlpEndpoint: string;
  /** http://host:port of the hooks receiver. */
  hooksEndpoint: string;
  token: string;
  protocol: OtlpProtocol;
  team?: string;
  user?: string;
}

export async function wireAgent(w: Wiring): Promise<void> {
  const args = [
    path.join(repoRoot, 'bin/agentotel.js'),
    'init',
    ...['--agent', w.agent, '--settings', w.settings],
    ...['--otlp-endpoint', w.otlpEndpoint, '--hooks-endpoint', w.hooksEndpoint],
    ...['--token', w.token, '--protocol', w.protocol],
    ...(w.team ? ['--team', w.team] : []),
    ...(w.user ? ['--user', w.user] : []),
  ];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: repoRoot, env: { ...process.env, HOME: w.home }, timeout: 60_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`agentotel init --agent ${w.agent} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
