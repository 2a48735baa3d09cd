/** The agentotel command as a user runs it: `up` prints how to wire Claude Code; config errors name the key. */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfigFile, pipelineEnv, repoRoot, tempDir } from '../helpers/pipeline.ts';
import { startAgentotel } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

const bin = path.join(repoRoot, 'bin/agentotel.js');

describe('agentotel CLI', () => {
  it('up: creates an ingest token, prints endpoints and the Claude Code environment, stops on SIGTERM', async () => {
    const dir = tempDir('cli-up');
    const env = pipelineEnv(dir);
    delete env.AGENTOTEL_INGEST_TOKEN;
    const up = startAgentotel('up', ['up', '-c', defaultConfigFile], env);
    const banner = await waitFor(
      async () => up.output(),
      (out) => out.includes('Stop with Ctrl-C'),
      60_000,
      'the banner',
    );
    const token = readFileSync(path.join(dir, 'ingest-token'), 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(statSync(path.join(dir, 'ingest-token')).mode & 0o777).toBe(0o600);
    expect(banner).toMatch(/OTLP\/gRPC\s+127\.0\.0\.1:\d+/);
    expect(banner).toMatch(/OTLP\/HTTP\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(banner).toContain('export CLAUDE_CODE_ENABLE_TELEMETRY=1');
    expect(banner).toContain(`Authorization=Bearer $(cat ${path.join(dir, 'ingest-token')})`);
    expect(banner).not.toContain(token); // the secret itself is never printed
    expect(await up.stop('SIGTERM')).toBe(0);
  });

  it('validate: a config error names the key and exits 2', () => {
    const dir = tempDir('cli-validate');
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(defaultConfigFile, 'utf8').replace('tier: 2', 'tier: 7'));
    const r = spawnSync(process.execPath, [bin, 'validate', '-c', bad], { env: pipelineEnv(dir), encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('config error: processors.redaction.tier: must be one of 1, 2, 3 (got 7)');
    const ok = spawnSync(process.execPath, [bin, 'validate', '-c', defaultConfigFile], { env: pipelineEnv(dir), encoding: 'utf8' });
    expect(ok.stdout).toContain('ok (traces, logs, metrics)');
    expect(ok.status).toBe(0);
  });

  it('an unknown command prints usage and exits 2', () => {
    const r = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).toContain('usage: agentotel');
  });
});
