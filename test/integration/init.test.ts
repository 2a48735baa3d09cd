/**
 * `agentotel init` and `agentotel status` as a user runs them: the real CLI, a temp HOME, and a
 * running embedded agentotel (`agentotel up`, token in its data dir) — or nothing at all.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../cli/status.ts';
import { defaultConfigFile, pipelineEnv, repoRoot, tempDir } from '../helpers/pipeline.ts';
import { scrapeCounter, startAgentotel, type AgentotelProcess } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

const bin = path.join(repoRoot, 'bin/agentotel.js');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function agentotel(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: repoRoot, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The environment of a user with their own HOME, the collector's data dir, and no token in the environment. */
function userEnv(home: string, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, AGENTOTEL_DATA_DIR: dataDir };
  delete env.AGENTOTEL_INGEST_TOKEN;
  return env;
}

async function status(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; checks: Record<Check['id'], Check> }> {
  const run = await agentotel(['status', '--json', ...args], env);
  const { checks } = JSON.parse(run.stdout) as { checks: Check[] };
  return { code: run.code, checks: Object.fromEntries(checks.map((c) => [c.id, c])) as Record<Check['id'], Check> };
}

describe('agentotel init and status', () => {
  let dataDir: string;
  let up: AgentotelProcess;
  let endpoints: Record<string, string>;
  let token: string;

  beforeAll(async () => {
    dataDir = tempDir('init-up');
    const env = pipelineEnv(dataDir);
    delete env.AGENTOTEL_INGEST_TOKEN; // up creates one in the data dir, where init finds it
    up = startAgentotel('up', ['up', '-c', defaultConfigFile, '--json'], env);
    ({ endpoints } = await up.ready);
    token = readFileSync(path.join(dataDir, 'ingest-token'), 'utf8').trim();
    await waitFor(
      () => fetch(`http://${endpoints.telemetry}/healthz`).then((r) => r.status),
      (s) => s === 200,
      60_000,
      'healthz',
    );
  }, 120_000);

  afterAll(async () => {
    await up?.stop();
  });

  const wiredTo = (extra: string[] = []) => [
    '--otlp-endpoint',
    `http://${endpoints['otlp.grpc']}`,
    '--hooks-endpoint',
    `http://${endpoints['hooks.http']}`,
    ...extra,
  ];
  const statusOf = (home: string) => status(['--telemetry-address', endpoints.telemetry!], userEnv(home, dataDir));

  it('wires Claude Code with the token of the data dir, never printing it; status then passes every check', async () => {
    const home = tempDir('init-home');
    const run = await agentotel(['init', ...wiredTo(['--team', 'payments'])], userEnv(home, dataDir));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`ingest token from ${path.join(dataDir, 'ingest-token')}`);
    expect(run.stdout + run.stderr).not.toContain(token);
    const settings = JSON.parse(readFileSync(path.join(home, '.claude', 'settings.json'), 'utf8')) as { env: Record<string, string> };
    expect(settings.env).toMatchObject({
      AGENTOTEL_INGEST_TOKEN: token,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${endpoints['otlp.grpc']}`,
      OTEL_RESOURCE_ATTRIBUTES: 'team=payments',
    });

    const { code, checks } = await statusOf(home);
    expect(Object.values(checks).filter((c) => !c.ok)).toEqual([]);
    expect(checks.settings.summary).toContain('14 hook events (http hooks), OTLP grpc');
    expect(checks.hooks.summary).toBe(`http://${endpoints['hooks.http']}/v1/hooks: accepts the token`);
    expect(code).toBe(0);

    const text = await agentotel(['status', '--telemetry-address', endpoints.telemetry!], userEnv(home, dataDir));
    expect(text.stdout).toMatch(/✓ OTLP\s+grpc http:\/\/127\.0\.0\.1:\d+: accepts the token/);
    expect(text.stdout).toContain('All good.');
    expect(text.stdout).not.toContain(token);
  });

  it('OTLP/HTTP wiring is probed over HTTP', async () => {
    const home = tempDir('init-http');
    const args = [
      '--protocol',
      'http/protobuf',
      '--otlp-endpoint',
      `http://${endpoints['otlp.http']}`,
      '--hooks-endpoint',
      `http://${endpoints['hooks.http']}`,
    ];
    expect((await agentotel(['init', ...args], userEnv(home, dataDir))).code).toBe(0);
    const { code, checks } = await statusOf(home);
    expect(checks.otlp).toEqual({ id: 'otlp', ok: true, summary: `http/protobuf http://${endpoints['otlp.http']}: accepts the token` });
    expect(code).toBe(0);
  });

  it('a token the collector does not know: status says so and what to do, exit 1', async () => {
    const home = tempDir('init-wrong');
    expect((await agentotel(['init', ...wiredTo(['--token', 'not-the-token'])], userEnv(home, dataDir))).code).toBe(0);
    const { code, checks } = await statusOf(home);
    expect(checks.settings.ok && checks.token.ok && checks.health.ok).toBe(true);
    expect(checks.otlp).toMatchObject({ ok: false, summary: expect.stringContaining('rejects the token (UNAUTHENTICATED)') });
    expect(checks.hooks).toMatchObject({ ok: false, summary: expect.stringContaining('rejects the token (HTTP 401)') });
    expect(checks.otlp.fix).toContain('run agentotel init --agent claude-code again');
    expect(code).toBe(1);
  });

  it('command hooks: the hook command init installs delivers a payload to the running collector', async () => {
    const home = tempDir('init-command');
    expect((await agentotel(['init', ...wiredTo(['--hooks', 'command'])], userEnv(home, dataDir))).code).toBe(0);
    const settings = JSON.parse(readFileSync(path.join(home, '.claude', 'settings.json'), 'utf8')) as {
      hooks: Record<string, { hooks: { command: string }[] }[]>;
    };
    const command = settings.hooks.SessionStart![0]!.hooks[0]!.command;
    expect(command).toContain(
      `hook --agent claude-code --url http://${endpoints['hooks.http']}/v1/hooks --token-file ${path.join(dataDir, 'ingest-token')}`,
    );
    const accepted = () => scrapeCounter(endpoints.telemetry!, 'agentotel_hooks_accepted_total');
    const before = await accepted();
    // As Claude Code runs it: through a shell, the payload on stdin, in the user's environment.
    const hook = spawn('/bin/sh', ['-c', command], { env: userEnv(home, dataDir), stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    hook.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    hook.stdin.end(JSON.stringify({ session_id: 'init-test-session', hook_event_name: 'SessionStart', source: 'startup', cwd: repoRoot }));
    expect(await new Promise((resolve) => hook.on('close', resolve))).toBe(0);
    expect(stdout).toBe('{}\n');
    await waitFor(accepted, (n) => n > before, 10_000, 'the hooks receiver to accept the payload');
    const spool = path.join(home, '.agentotel', 'spool');
    expect(existsSync(spool) ? readdirSync(spool) : []).toEqual([]);
  });

  it('running init twice changes nothing; --uninstall gives back the user settings; --dry-run writes nothing', async () => {
    const home = tempDir('init-twice');
    mkdirSync(path.join(home, '.claude'));
    const original =
      JSON.stringify({ model: 'opus', hooks: { Stop: [{ matcher: '', hooks: [{ type: 'command', command: 'say done' }] }] } }, null, 2) +
      '\n';
    const file = path.join(home, '.claude', 'settings.json');
    writeFileSync(file, original);
    const env = userEnv(home, dataDir);

    const dry = await agentotel(['init', ...wiredTo(), '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('"AGENTOTEL_INGEST_TOKEN": "****"');
    expect(dry.stdout).not.toContain(token);
    expect(readdirSync(path.join(home, '.claude'))).toEqual(['settings.json']);

    expect((await agentotel(['init', ...wiredTo()], env)).code).toBe(0);
    const again = await agentotel(['init', ...wiredTo()], env);
    expect(again.stdout).toContain('already wired as asked: nothing changed');
    expect(readdirSync(path.join(home, '.claude')).filter((f) => f.includes('backup'))).toHaveLength(1);

    const removed = await agentotel(['init', '--uninstall'], env);
    expect(removed.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect((await statusOf(home)).checks.settings).toMatchObject({ ok: false, fix: 'run agentotel init --agent claude-code' });
  });

  it('malformed settings: a clear error, exit 1, nothing written; a bad flag: usage, exit 2', async () => {
    const home = tempDir('init-broken');
    mkdirSync(path.join(home, '.claude'));
    writeFileSync(path.join(home, '.claude', 'settings.json'), '{"hooks": ');
    const run = await agentotel(['init', ...wiredTo()], userEnv(home, dataDir));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`agentotel init: ${path.join(home, '.claude', 'settings.json')} is not valid JSON`);
    expect(readdirSync(path.join(home, '.claude'))).toEqual(['settings.json']);
    const bad = await agentotel(['init', '--agent', 'cursor'], userEnv(home, dataDir));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--agent must be one of claude-code, codex, gemini-cli');
    expect(bad.stderr).toContain('usage: agentotel init');
    const codexHttp = await agentotel(['init', '--agent', 'codex', '--hooks', 'http'], userEnv(home, dataDir));
    expect(codexHttp.stderr).toContain('--hooks http is not available for Codex: choose command');
  });
});

describe('agentotel status against nothing', () => {
  it('every check fails with what to do, exit 1', async () => {
    const home = tempDir('status-nothing');
    const dataDir = tempDir('status-nothing-data');
    const port = await freePort();
    const closed = `http://127.0.0.1:${port}`;
    const { code, checks } = await status(
      ['--otlp-endpoint', closed, '--hooks-endpoint', closed, '--telemetry-address', `127.0.0.1:${port}`],
      userEnv(home, dataDir),
    );
    expect(code).toBe(1);
    expect(checks.settings).toMatchObject({
      ok: false,
      summary: expect.stringContaining('is not wired'),
      fix: 'run agentotel init --agent claude-code',
    });
    expect(checks.token.ok).toBe(false);
    expect(checks.otlp).toMatchObject({ ok: false, summary: `grpc ${closed}: not reachable (ECONNREFUSED)` });
    expect(checks.hooks).toMatchObject({ ok: false, summary: `${closed}/v1/hooks: not reachable (ECONNREFUSED)` });
    expect(checks.health).toMatchObject({ ok: false, fix: expect.stringContaining('agentotel up') });
  });
});

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
