/** Test support: the Claude Code hook fixtures, and a hooks receiver on an ephemeral port whose pipeline a test controls. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { fixturesDir } from '../../test/helpers/fixtures.ts';
import { hooksReceiverFactory } from './index.ts';

export interface FixtureFacts {
  session_ids: string[];
  prompts: { items: { prompt_id: string; prompt: string }[] };
  tool_calls: { items: { tool_use_id: string; name: string; agent: string; outcome: 'success' | 'error' }[] };
}

export interface HookScenario {
  name: string;
  facts: FixtureFacts;
  /** The raw hook payloads in arrival order. */
  hooks: { file: string; body: string }[];
}

/** Every Claude Code scenario with hook captures. */
export function claudeCodeHookScenarios(): HookScenario[] {
  const root = path.join(fixturesDir, 'claude-code');
  return readdirSync(root)
    .sort()
    .map((name) => {
      const dir = path.join(root, name, 'hooks');
      const hooks = readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((file) => ({ file, body: readFileSync(path.join(dir, file), 'utf8') }));
      return { name, facts: JSON.parse(readFileSync(path.join(root, name, 'facts.json'), 'utf8')) as FixtureFacts, hooks };
    });
}

export const TOKEN = 'hooks-test-token';

export interface TestHooksReceiver {
  /** http://host:port */
  url: string;
  dataDir: string;
  metrics: MetricsRegistry;
  /** What reached the pipeline, in order. */
  received: TracesData[];
  /** While down, every hand-over to the pipeline fails, as when the bus is unavailable. */
  setDown(down: boolean): void;
  /** Hand-overs wait for this promise (to keep the pipeline busy). */
  holdNext(until: Promise<void>): void;
  /** A counter of this receiver (agentotel_hooks_<name>_total). */
  counter(name: string, labels?: Record<string, string>): number;
  stop(): Promise<void>;
}

export async function startTestHooksReceiver(raw: Record<string, unknown> = {}, dataDir?: string): Promise<TestHooksReceiver> {
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'agentotel-hooks-'));
  const metrics = new MetricsRegistry();
  const received: TracesData[] = [];
  let down = false;
  let hold: Promise<void> = Promise.resolve();
  const config = hooksReceiverFactory.parseConfig(
    new Fields(
      { endpoint: '127.0.0.1:0', auth: { tokens: [TOKEN] }, retry: { initial_interval: '20ms', max_interval: '100ms' }, ...raw },
      'receivers.hooks',
    ),
  );
  const next = async (data: TracesData) => {
    await hold;
    if (down) throw new Error('bus unavailable');
    received.push(data);
  };
  const receiver = hooksReceiverFactory.create(config, { id: 'hooks', dataDir: dir, configDir: dir, metrics, next: { traces: next } });
  await receiver.start();
  return {
    url: `http://${receiver.endpoints!().http}`,
    dataDir: dir,
    metrics,
    received,
    setDown: (d) => void (down = d),
    holdNext: (until) => void (hold = until),
    counter: (name, labels = {}) => metrics.counter(`agentotel_hooks_${name}_total`, '').get({ receiver: 'hooks', ...labels }),
    stop: () => receiver.shutdown(),
  };
}

export interface PostOptions {
  path?: string;
  token?: string | null;
  contentType?: string;
  method?: string;
}

/** One hook request as Claude Code's http hooks send it (POST, application/json, bearer token). */
export async function postHook(
  url: string,
  body: string,
  options: PostOptions = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const method = options.method ?? 'POST';
  const res = await fetch(`${url}${options.path ?? '/v1/hooks'}`, { method, headers, body: method === 'GET' ? undefined : body });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
