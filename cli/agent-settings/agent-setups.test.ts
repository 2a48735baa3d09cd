/**
 * `agentotel init`'s settings merge for the three agents, on real files in temp dirs: a fresh
 * machine, the user's own settings as installed for the fixture captures, idempotence, an
 * uninstall that gives back exactly the user's files, backups, and malformed input.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentName } from '../../core/agent/session-spans.ts';
import { CliError } from './agents.ts';
import { claudeCode, CLAUDE_CODE_HOOK_EVENTS } from './claude-code.ts';
import { codex, CODEX_HOOK_EVENTS } from './codex.ts';
import { applyChanges, changed } from './files.ts';
import { geminiCli, GEMINI_CLI_HOOK_EVENTS } from './gemini-cli.ts';
import { recordFile } from './json-settings.ts';
import type { AgentSetup, Wiring } from './wiring.ts';

const FIXTURES = '/work/shared/fixtures';
const TOKEN = 'tok-3Jd9_secret';

function wiring(agent: AgentName, over: Partial<Wiring> = {}): Wiring {
  return {
    agent,
    protocol: 'grpc',
    otlpEndpoint: 'http://127.0.0.1:4317',
    hooksUrl: `http://127.0.0.1:4319/v1/hooks${agent === 'claude-code' ? '' : `/${agent}`}`,
    hooks: agent === 'claude-code' ? 'http' : 'command',
    token: TOKEN,
    hookCommand: `/usr/bin/node /opt/agentotel/bin/agentotel.js hook --agent ${agent} --url http://127.0.0.1:4319/v1/hooks --token-file /t`,
    resourceAttributes: [],
    ...over,
  };
}

/** What `agentotel init` does with a setup: plan, then write. */
async function init(setup: AgentSetup, file: string, w: Wiring | null): Promise<Map<string, string>> {
  return applyChanges(await setup.plan(file, w));
}

/** Every file under dir (relative path → content). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;

interface Case {
  setup: AgentSetup;
  events: readonly string[];
  /** Writes the user's own settings (as installed for the fixture captures) into dir; returns the main settings file. */
  userSettings(dir: string): string;
  /** The user's hook groups for an event, as in their file. */
  userGroups(dir: string, event: string): unknown[];
  /** The file holding the hooks. */
  hooksFile(dir: string): string;
  /** Where in that file something of agentotel's is, for the user to edit. */
  editedPath: string[];
}

const claudeFixtureSettings = {
  permissions: { allow: ['Bash(npm test:*)'] },
  env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', MY_VAR: 'kept' },
  hooks: Object.fromEntries(
    CLAUDE_CODE_HOOK_EVENTS.map((e) => [
      e,
      [{ matcher: '*', hooks: [{ type: 'command', command: `curl -s -X POST --data-binary @- http://127.0.0.1:18181/hook/${e}` }] }],
    ]),
  ),
};

/** The fixture's config.toml without its [otel] section (agentotel refuses to replace a user's own). */
const codexFixtureToml = () => readFileSync(`${FIXTURES}/codex/baseline-shell/config/config.toml`, 'utf8').split('\n[otel]')[0]! + '\n';

const cases: Case[] = [
  {
    setup: claudeCode,
    events: CLAUDE_CODE_HOOK_EVENTS,
    userSettings: (dir) => {
      const file = path.join(dir, 'settings.json');
      writeFileSync(file, JSON.stringify(claudeFixtureSettings, null, 2) + '\n', { mode: 0o644 });
      return file;
    },
    userGroups: (dir, event) => json(path.join(dir, 'settings.json')).hooks[event],
    hooksFile: (dir) => path.join(dir, 'settings.json'),
    editedPath: ['env', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
  },
  {
    setup: codex,
    events: CODEX_HOOK_EVENTS,
    userSettings: (dir) => {
      writeFileSync(path.join(dir, 'hooks.json'), readFileSync(`${FIXTURES}/codex/baseline-shell/config/hooks.json`), { mode: 0o644 });
      writeFileSync(path.join(dir, 'config.toml'), codexFixtureToml(), { mode: 0o644 });
      return path.join(dir, 'config.toml');
    },
    userGroups: (dir, event) => json(path.join(dir, 'hooks.json')).hooks[event],
    hooksFile: (dir) => path.join(dir, 'hooks.json'),
    editedPath: ['hooks', 'Stop', '1', 'hooks', '0', 'command'], // our group after the user's: no longer ours once edited
  },
  {
    setup: geminiCli,
    events: GEMINI_CLI_HOOK_EVENTS,
    userSettings: (dir) => {
      const file = path.join(dir, 'settings.json');
      writeFileSync(file, readFileSync(`${FIXTURES}/gemini/baseline-shell/config/settings.json`), { mode: 0o644 });
      writeFileSync(path.join(dir, '.env'), 'GEMINI_API_KEY=mine\n', { mode: 0o644 });
      return file;
    },
    userGroups: (dir, event) => json(path.join(dir, 'settings.json')).hooks[event],
    hooksFile: (dir) => path.join(dir, 'settings.json'),
    editedPath: ['telemetry', 'otlpEndpoint'],
  },
];

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'agentotel-init-'));

describe.each(cases)('$setup.title settings merge', ({ setup, events, userSettings, userGroups, hooksFile, editedPath }) => {
  const settingsName = path.basename(setup.settingsFile('/home/u'));

  it('on a fresh machine: creates the files (0600, they hold the token) with a hook per event', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'nested', settingsName);
    const backups = await init(setup, file, wiring(setup.agent));
    expect(backups.size).toBe(0);
    const hooks = json(hooksFile(path.dirname(file))).hooks;
    expect(Object.keys(hooks)).toEqual([...events]);
    for (const event of events) expect(hooks[event]).toHaveLength(1);
    for (const f of Object.keys(snapshot(path.dirname(file)))) expect(statSync(path.join(path.dirname(file), f)).mode & 0o777).toBe(0o600);
    expect((await setup.inspect(file)).wired).toBe(true);
  });

  it("with the user's own hooks for the same events: appends ours after theirs and keeps everything of theirs", async () => {
    const dir = tempDir();
    const file = userSettings(dir);
    const before = snapshot(dir);
    const theirs = Object.fromEntries(events.map((e) => [e, userGroups(dir, e)]));
    await init(setup, file, wiring(setup.agent));
    for (const event of events) {
      const groups = userGroups(dir, event);
      const mine = theirs[event] ?? [];
      expect(groups.slice(0, mine.length)).toEqual(mine);
      expect(groups).toHaveLength(mine.length + 1);
      expect(JSON.stringify(groups.at(-1))).toContain(setup.agent === 'claude-code' ? 'http://127.0.0.1:4319/v1/hooks' : 'hook --agent');
    }
    const inspection = await setup.inspect(file);
    expect(inspection).toMatchObject({ wired: true, token: TOKEN, wiredHookEvents: events.length });
    expect(Object.keys(snapshot(dir)).filter((f) => f.includes('agentotel-backup-'))).toHaveLength(Object.keys(before).length);
  });

  it('is idempotent: a second init changes nothing and makes no backup', async () => {
    const dir = tempDir();
    const file = userSettings(dir);
    await init(setup, file, wiring(setup.agent));
    const once = snapshot(dir);
    const second = await setup.plan(file, wiring(setup.agent));
    expect(second.filter(changed)).toEqual([]);
    expect(await applyChanges(second)).toEqual(new Map());
    expect(snapshot(dir)).toEqual(once);
  });

  it('init with other flags replaces its own wiring instead of adding a second one', async () => {
    const dir = tempDir();
    const file = userSettings(dir);
    await init(setup, file, wiring(setup.agent));
    const moved = wiring(setup.agent, {
      otlpEndpoint: 'http://10.0.0.5:4317',
      hooksUrl: 'http://10.0.0.5:4319/v1/hooks',
      hookCommand: 'agentotel hook --moved',
    });
    await init(setup, file, moved);
    for (const event of events) {
      const ours = userGroups(dir, event).filter((g) => JSON.stringify(g).includes('4319') || JSON.stringify(g).includes('agentotel hook'));
      expect(ours).toHaveLength(1);
      expect(JSON.stringify(ours[0])).toMatch(/10\.0\.0\.5|--moved/);
    }
  });

  it("uninstall gives back exactly the user's files and removes agentotel's record", async () => {
    const dir = tempDir();
    const file = userSettings(dir);
    const original = snapshot(dir);
    await init(setup, file, wiring(setup.agent, { resourceAttributes: [['team', 'payments']] }));
    await init(setup, file, null);
    const after = snapshot(dir);
    for (const [name, text] of Object.entries(original)) expect(after[name], name).toBe(text);
    expect(Object.keys(after).filter((f) => !f.includes('agentotel-backup-'))).toEqual(Object.keys(original));
    expect((await setup.inspect(file)).wired).toBe(false);
  });

  it('uninstall on a fresh machine removes the files init created', async () => {
    const dir = tempDir();
    const file = path.join(dir, settingsName);
    await init(setup, file, wiring(setup.agent));
    await init(setup, file, null);
    expect(snapshot(dir)).toEqual({});
  });

  it("backs up each user file before changing it, with the file's mode", async () => {
    const dir = tempDir();
    const file = userSettings(dir);
    const original = snapshot(dir);
    const backups = await init(setup, file, wiring(setup.agent));
    expect([...backups.keys()].sort()).toEqual(
      Object.keys(original)
        .map((f) => path.join(dir, f))
        .sort(),
    );
    for (const [changedFile, backup] of backups) {
      expect(path.basename(backup)).toMatch(
        new RegExp(`^${path.basename(changedFile).replace('.', '\\.')}\\.agentotel-backup-\\d{8}T\\d{6}Z$`),
      );
      expect(readFileSync(backup, 'utf8')).toBe(original[path.relative(dir, changedFile)]);
      expect(statSync(backup).mode & 0o777).toBe(0o644);
    }
  });

  it('malformed settings JSON: a clear error naming the file, and nothing written', async () => {
    const dir = tempDir();
    const file = userSettings(dir);
    const broken = hooksFile(dir);
    writeFileSync(broken, '{ "hooks": { "Stop": [ }');
    const before = snapshot(dir);
    const error = await setup.plan(file, wiring(setup.agent)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toContain(`${broken} is not valid JSON`);
    expect((error as Error).message).toContain('nothing was written');
    expect(snapshot(dir)).toEqual(before);
  });

  it('a value of ours the user changed after init is theirs: uninstall leaves it', async () => {
    const dir = tempDir();
    const file = userSettings(dir);
    await init(setup, file, wiring(setup.agent));
    const doc = json(hooksFile(dir));
    const parent = editedPath.slice(0, -1).reduce((o: any, k) => o[k], doc);
    parent[editedPath.at(-1)!] = 'edited by the user';
    writeFileSync(hooksFile(dir), JSON.stringify(doc, null, 2) + '\n');
    expect((await setup.inspect(file)).wired).toBe(false);
    await init(setup, file, null);
    expect(editedPath.reduce((o: any, k) => o[k], json(hooksFile(dir)))).toBe('edited by the user');
  });
});

describe('Claude Code settings', () => {
  it('sets the telemetry environment, overwriting and later restoring what the user had', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify(claudeFixtureSettings, null, 2) + '\n');
    const w = wiring('claude-code', {
      resourceAttributes: [
        ['team', 'payments'],
        ['user.email', 'ana@example.com'],
      ],
    });
    await init(claudeCode, file, w);
    expect(json(file).env).toEqual({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      MY_VAR: 'kept',
      CLAUDE_CODE_ENABLE_TELEMETRY: '1',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317',
      OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${TOKEN}`,
      OTEL_RESOURCE_ATTRIBUTES: 'team=payments,user.email=ana@example.com',
      AGENTOTEL_RESOURCE_ATTRIBUTES: 'team=payments,user.email=ana@example.com',
      AGENTOTEL_INGEST_TOKEN: TOKEN,
    });
    await init(claudeCode, file, null);
    expect(json(file).env).toEqual(claudeFixtureSettings.env);
  });

  it('http hooks read the token and resource attributes from the environment; SessionStart and command hooks run agentotel hook', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'settings.json');
    await init(claudeCode, file, wiring('claude-code'));
    expect(json(file).hooks.PreToolUse).toEqual([
      {
        matcher: '*',
        hooks: [
          {
            type: 'http',
            url: 'http://127.0.0.1:4319/v1/hooks',
            headers: {
              Authorization: 'Bearer $AGENTOTEL_INGEST_TOKEN',
              'X-Agentotel-Resource-Attributes': '$AGENTOTEL_RESOURCE_ATTRIBUTES',
            },
            allowedEnvVars: ['AGENTOTEL_INGEST_TOKEN', 'AGENTOTEL_RESOURCE_ATTRIBUTES'],
            timeout: 1,
          },
        ],
      },
    ]);
    // Claude Code never calls an http hook on SessionStart.
    expect(json(file).hooks.SessionStart).toEqual([
      { matcher: '*', hooks: [{ type: 'command', command: wiring('claude-code').hookCommand, timeout: 10 }] },
    ]);
    expect(readFileSync(file, 'utf8').match(new RegExp(TOKEN, 'g'))).toHaveLength(2); // env: the headers and the variable
    await init(claudeCode, file, wiring('claude-code', { hooks: 'command' }));
    expect(json(file).hooks.Stop).toEqual([
      { matcher: '*', hooks: [{ type: 'command', command: wiring('claude-code').hookCommand, timeout: 10 }] },
    ]);
  });

  it("merges team and user into the user's own OTEL_RESOURCE_ATTRIBUTES", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify({ env: { OTEL_RESOURCE_ATTRIBUTES: 'department=eng,team=old' } }));
    await init(claudeCode, file, wiring('claude-code', { resourceAttributes: [['team', 'pay ments']] }));
    expect(json(file).env.OTEL_RESOURCE_ATTRIBUTES).toBe('department=eng,team=pay%20ments');
  });
});

describe('Codex settings', () => {
  it('writes the [otel] exporters in a marked block: gRPC, OTLP/HTTP protobuf and JSON', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'config.toml');
    await init(codex, file, wiring('codex'));
    expect(readFileSync(file, 'utf8')).toBe(
      [
        '# >>> agentotel (written by `agentotel init --agent codex`; `agentotel init --agent codex --uninstall` removes it) >>>',
        '[otel]',
        `exporter = { otlp-grpc = { endpoint = "http://127.0.0.1:4317", headers = { authorization = "Bearer ${TOKEN}" } } }`,
        `metrics_exporter = { otlp-grpc = { endpoint = "http://127.0.0.1:4317", headers = { authorization = "Bearer ${TOKEN}" } } }`,
        '# <<< agentotel <<<',
        '',
      ].join('\n'),
    );
    await init(codex, file, wiring('codex', { protocol: 'http/protobuf', otlpEndpoint: 'http://127.0.0.1:4318' }));
    const toml = readFileSync(file, 'utf8');
    expect(toml).toContain(
      `exporter = { otlp-http = { endpoint = "http://127.0.0.1:4318/v1/logs", protocol = "binary", headers = { authorization = "Bearer ${TOKEN}" } } }`,
    );
    expect(toml).toContain('metrics_exporter = { otlp-http = { endpoint = "http://127.0.0.1:4318/v1/metrics", protocol = "binary"');
    expect(toml.match(/\[otel\]/g)).toHaveLength(1);
    await init(codex, file, wiring('codex', { protocol: 'http/json', otlpEndpoint: 'http://127.0.0.1:4318' }));
    expect(readFileSync(file, 'utf8')).toContain('protocol = "json"');
  });

  it("appends the block after the user's config and keeps the hooks without a matcher, like the fixture's", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'config.toml');
    writeFileSync(file, codexFixtureToml());
    await init(codex, file, wiring('codex'));
    const toml = readFileSync(file, 'utf8');
    expect(toml.startsWith(codexFixtureToml() + '\n# >>> agentotel')).toBe(true);
    expect(json(path.join(dir, 'hooks.json')).hooks.SessionStart).toEqual([
      { hooks: [{ type: 'command', command: wiring('codex').hookCommand, timeout: 10 }] },
    ]);
  });

  it("refuses to replace the user's own [otel] section, writing nothing", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'config.toml');
    writeFileSync(file, readFileSync(`${FIXTURES}/codex/baseline-shell/config/config.toml`));
    const error = await codex.plan(file, wiring('codex')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(/already has an \[otel\] section of its own/);
    expect(readdirSync(dir)).toEqual(['config.toml']);
  });
});

describe('Gemini CLI settings', () => {
  it("sets the telemetry block over the user's and restores it on uninstall; the token goes to .env", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'settings.json');
    const original = readFileSync(`${FIXTURES}/gemini/baseline-shell/config/settings.json`, 'utf8');
    writeFileSync(file, original);
    writeFileSync(path.join(dir, '.env'), 'GEMINI_API_KEY=mine\n');
    await init(
      geminiCli,
      file,
      wiring('gemini-cli', { protocol: 'http/json', otlpEndpoint: 'http://127.0.0.1:4318', resourceAttributes: [['team', 'a,b']] }),
    );
    expect(json(file).telemetry).toEqual({
      enabled: true,
      target: 'local',
      otlpEndpoint: 'http://127.0.0.1:4318',
      otlpProtocol: 'http',
      logPrompts: true,
      traces: true,
    });
    expect(json(file).hooks.AfterTool.at(-1)).toEqual({
      matcher: '*',
      hooks: [{ name: 'agentotel-AfterTool', type: 'command', command: wiring('gemini-cli').hookCommand, timeout: 10_000 }],
    });
    expect(readFileSync(path.join(dir, '.env'), 'utf8')).toBe(
      [
        'GEMINI_API_KEY=mine',
        '',
        '# >>> agentotel (written by `agentotel init --agent gemini-cli`; `agentotel init --agent gemini-cli --uninstall` removes it) >>>',
        `OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer ${TOKEN}"`,
        'OTEL_RESOURCE_ATTRIBUTES="team=a%2Cb"',
        '# <<< agentotel <<<',
        '',
      ].join('\n'),
    );
    await init(geminiCli, file, null);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(readFileSync(path.join(dir, '.env'), 'utf8')).toBe('GEMINI_API_KEY=mine\n');
  });

  it('grpc sets otlpProtocol grpc', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'settings.json');
    await init(geminiCli, file, wiring('gemini-cli'));
    expect(json(file).telemetry.otlpProtocol).toBe('grpc');
    expect(existsSync(recordFile(file))).toBe(true);
  });
});
