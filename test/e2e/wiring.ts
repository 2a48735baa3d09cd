/**
 * Pointing Claude Code at a running agentotel with `agentotel init`, as a user does: it writes
 * ~/.claude/settings.json with http hooks to the hooks receiver and the OTEL_* env block for the
 * OTLP receiver. Run again with another protocol, it updates the same file.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { OtlpProtocol } from '../helpers/otel-sdk.ts';
import { repoRoot } from '../helpers/pipeline.ts';

export interface Wiring {
  /** The CLI's HOME; init edits <home>/.claude/settings.json. */
  home: string;
  /** http://host:port of the OTLP receiver for the protocol (gRPC or HTTP port). */
  otlpEndpoint: string;
  /** http://host:port of the hooks receiver. */
  hooksEndpoint: string;
  token: string;
  protocol: OtlpProtocol;
  team: string;
  user: string;
}

export async function wireClaudeCode(w: Wiring): Promise<void> {
  const args = [
    path.join(repoRoot, 'bin/agentotel.js'),
    'init',
    '--agent',
    'claude-code',
    '--settings',
    path.join(w.home, '.claude', 'settings.json'),
    '--otlp-endpoint',
    w.otlpEndpoint,
    '--hooks-endpoint',
    w.hooksEndpoint,
    '--token',
    w.token,
    '--protocol',
    w.protocol,
    '--team',
    w.team,
    '--user',
    w.user,
  ];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: repoRoot, env: { ...process.env, HOME: w.home }, timeout: 30_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`agentotel init failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
