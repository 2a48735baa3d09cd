/**
 * The real Claude Code CLI (npm @anthropic-ai/claude-code, a native binary) run headless as the
 * fixtures were captured: `claude -p "…" --output-format json`, an `env -i`-like environment with
 * its own HOME, a fake API key, ANTHROPIC_BASE_URL at the scripted model.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/pipeline.ts';
import { runProcess } from '../helpers/processes.ts';

export const CLI_PACKAGE = '@anthropic-ai/claude-code';

function platformKey(): string {
  if (process.platform !== 'linux') return `${process.platform}-${os.arch()}`;
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  return `linux-${os.arch()}${glibc ? '' : '-musl'}`;
}

/**
 * The native binary from the CLI's platform package (an optional dependency of the wrapper
 * package), so no install script has to have run. Throws, saying how to fix it, when missing.
 */
export function claudeBinary(): string {
  const pkg = `${CLI_PACKAGE}-${platformKey()}`;
  const require = createRequire(path.join(repoRoot, 'package.json'));
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(`the Claude Code CLI binary package ${pkg} is not installed: run \`npm install\` (devDependency ${CLI_PACKAGE})`);
  }
  const bin = path.join(dir, process.platform === 'win32' ? 'claude.exe' : 'claude');
  if (!existsSync(bin) || statSync(bin).size < 1_000_000)
    throw new Error(`${bin}: not the Claude Code native binary (missing or a placeholder)`);
  return bin;
}

/** The stdout of `--output-format json`. */
export interface ClaudeResult {
  type: string;
  subtype: string;
  is_error: boolean;
  session_id: string;
  num_turns: number;
  result?: string;
  modelUsage?: Record<
    string,
    { inputTokens: number; outputTokens: number; cacheReadInputTokens: number; cacheCreationInputTokens: number }
  >;
}

export interface ClaudeRun {
  exitCode: number | null;
  result: ClaudeResult;
  stderr: string;
  durationMs: number;
}

export interface ClaudeInvocation {
  home: string;
  cwd: string;
  baseUrl: string;
  prompt: string;
  /** Flags after the prompt (--resume <id>, --allowedTools …). */
  args: string[];
  timeoutMs?: number;
}

/** The capture's environment, exactly: nothing of this process's environment leaks in. */
export function cliEnvironment(home: string, baseUrl: string): Record<string, string> {
  return {
    HOME: home,
    USER: 'dev',
    LOGNAME: 'dev',
    SHELL: '/bin/bash',
    PATH: '/usr/local/bin:/usr/bin:/bin',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-api03-e2e-not-a-real-key',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  };
}

function isResult(v: unknown): v is ClaudeResult {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return r.type === 'result' && typeof r.session_id === 'string' && typeof r.subtype === 'string';
}

/** Runs `claude -p <prompt> --output-format json <args>` (stdin closed) and parses its result. */
export async function runClaude(inv: ClaudeInvocation): Promise<ClaudeRun> {
  const started = Date.now();
  const { exitCode, stdout, stderr } = await runProcess(claudeBinary(), ['-p', inv.prompt, '--output-format', 'json', ...inv.args], {
    cwd: inv.cwd,
    env: cliEnvironment(inv.home, inv.baseUrl),
    timeout: inv.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
  const what = `claude -p ${JSON.stringify(inv.prompt)} ${inv.args.join(' ')} (exit ${exitCode}, ${Date.now() - started} ms)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error(`${what}: stdout is not the JSON result\nstdout: ${stdout.slice(0, 2_000)}\nstderr: ${stderr.slice(-2_000)}`);
  }
  if (!isResult(parsed)) throw new Error(`${what}: unexpected result ${stdout.slice(0, 2_000)}`);
  return { exitCode, result: parsed, stderr, durationMs: Date.now() - started };
}

/** Claude Code's transcript folder for a working directory: ~/.claude/projects/<cwd with every non-alphanumeric as '-'>. */
export function projectTranscriptDir(home: string, cwd: string): string {
  return path.join(home, '.claude', 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'));
}

type Json = Record<string, unknown>;

function jsonLines(file: string): Json[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Json);
}

/** What the CLI itself wrote about a session: its prompt ids (in order) and its subagents. */
export interface SessionArtifacts {
  prompts: { promptId: string; text: string }[];
  subagents: { agentId: string; toolUseId: string }[];
}

function promptText(message: unknown): string {
  const content = (message as Json | undefined)?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((b: Json) => (b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('');
}

export function readSessionArtifacts(home: string, cwd: string, sessionId: string): SessionArtifacts {
  const dir = projectTranscriptDir(home, cwd);
  const transcript = path.join(dir, `${sessionId}.jsonl`);
  if (!existsSync(transcript)) throw new Error(`no transcript ${transcript}`);
  const prompts: SessionArtifacts['prompts'] = [];
  for (const r of jsonLines(transcript)) {
    if (r.type !== 'user' || r.isSidechain === true || typeof r.promptId !== 'string') continue;
    if (prompts.some((p) => p.promptId === r.promptId)) continue;
    prompts.push({ promptId: r.promptId, text: promptText(r.message) });
  }
  const subagentDir = path.join(dir, sessionId, 'subagents');
  const subagents = existsSync(subagentDir)
    ? readdirSync(subagentDir)
        .filter((f) => f.endsWith('.meta.json'))
        .map((f) => {
          const meta = JSON.parse(readFileSync(path.join(subagentDir, f), 'utf8')) as Json;
          return { agentId: f.replace(/^agent-/, '').replace(/\.meta\.json$/, ''), toolUseId: String(meta.toolUseId) };
        })
    : [];
  return { prompts, subagents };
}
