/** Running `agentotel` commands as separate OS processes, as the distributed mode does. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './pipeline.ts';

export interface AgentotelProcess {
  name: string;
  child: ChildProcess;
  /** The JSON status line the command prints once running (endpoints, telemetry address). */
  ready: Promise<{ endpoints: Record<string, string> }>;
  output(): string;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startAgentotel(name: string, args: string[], env: NodeJS.ProcessEnv): AgentotelProcess {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/agentotel.js'), ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<{ endpoints: Record<string, string> }>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"status":"running"'));
      if (line) resolve(JSON.parse(line) as { endpoints: Record<string, string> });
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    void exited.then((code) => reject(new Error(`${name} exited with ${code} before it was running:\n${out.slice(-4_000)}`)));
  });
  ready.catch(() => undefined);
  return {
    name,
    child,
    ready,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Reads one counter (summed over its label sets, optionally filtered) from a /metrics page. */
export async function scrapeCounter(telemetryAddress: string, name: string, labelFilter = ''): Promise<number> {
  const text = await (await fetch(`http://${telemetryAddress}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (labelFilter && !line.includes(labelFilter)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

export interface ProcessRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end and collects its output; not spawnSync: this process may serve what the command talks to. */
export function runProcess(command: string, args: string[], options: SpawnOptions): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}
