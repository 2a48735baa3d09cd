import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attributesToMap, getString } from '../../core/otlp/attributes.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { AGENTS, hookFormats } from './formats.ts';
import { claudeCodeHookScenarios, postHook, startTestHooksReceiver, TOKEN, type TestHooksReceiver } from './test-harness.ts';

const toolCall = (i: number) =>
  JSON.stringify({
    session_id: 'session-under-test',
    prompt_id: 'prompt-1',
    hook_event_name: 'PreToolUse',
    tool_name: 'Bash',
    tool_input: { command: `echo ${i}` },
    tool_use_id: `toolu_${i}`,
  });

/** The tool call ids of every span that reached the pipeline, repeats included. */
const toolIds = (received: TracesData[]) =>
  received.flatMap((d) =>
    [...eachSpan(d)].map((s) => getString(s.span.attributes, 'gen_ai.tool.call.id')).filter((id) => id !== undefined),
  );

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let receiver: TestHooksReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

describe('hooks receiver over HTTP', () => {
  it('answers 200 {} to every hook of a fixture session and publishes its spans', async () => {
    receiver = await startTestHooksReceiver();
    const [scenario] = claudeCodeHookScenarios();
    for (const [i, hook] of scenario!.hooks.entries()) {
      const res = await postHook(receiver.url, hook.body, { path: i % 2 ? '/v1/hooks/claude-code' : '/v1/hooks' });
      expect([res.status, res.body, res.headers.get('content-type')]).toEqual([200, '{}', 'application/json']);
    }
    const r = receiver;
    await waitFor(
      async () => r.counter('published'),
      (n) => n === scenario!.hooks.length,
      5_000,
      'every payload published',
    );
    expect(r.counter('accepted', { agent: 'claude-code' })).toBe(scenario!.hooks.length);
    expect(new Set(toolIds(r.received))).toEqual(new Set(scenario!.facts.tool_calls.items.map((t) => t.tool_use_id)));
  });

  describe('refuses what it cannot take, with a precise status and a counted reason', () => {
    const cases: {
      name: string;
      body?: string;
      options?: Parameters<typeof postHook>[2];
      status: number;
      reason: string;
      message: RegExp;
    }[] = [
      { name: 'a body that is not JSON', body: '{"session_id": ', status: 400, reason: 'invalid_body', message: /not JSON/ },
      { name: 'a JSON body that is not an object', body: '["s"]', status: 400, reason: 'invalid_body', message: /JSON object/ },
      {
        name: 'a payload without a session id',
        body: '{"hook_event_name":"Stop"}',
        status: 400,
        reason: 'invalid_payload',
        message: /session_id/,
      },
      { name: 'no bearer token', options: { token: null }, status: 401, reason: 'unauthorized', message: /bearer token/ },
      { name: 'a wrong bearer token', options: { token: 'not-the-token' }, status: 401, reason: 'unauthorized', message: /bearer token/ },
      { name: 'an unknown path', options: { path: '/v1/traces' }, status: 404, reason: 'not_found', message: /\/v1\/hooks/ },
      {
        name: 'an unknown agent',
        options: { path: '/v1/hooks/cursor' },
        status: 404,
        reason: 'not_found',
        message: /unknown agent "cursor"/,
      },
      { name: 'a GET', options: { method: 'GET' }, status: 405, reason: 'method_not_allowed', message: /use POST/ },
      {
        name: 'a body over max_body_size',
        body: toolCall(1).padEnd(2_000, ' '),
        status: 413,
        reason: 'too_large',
        message: /1024 bytes \(max_body_size\)/,
      },
      {
        name: 'a body that is not application/json',
        options: { contentType: 'text/plain' },
        status: 415,
        reason: 'unsupported_media_type',
        message: /application\/json/,
      },
    ];

    it.each(cases)('$name → $status', async ({ body, options, status, reason, message }) => {
      receiver = await startTestHooksReceiver({ max_body_size: '1KiB' });
      const res = await postHook(receiver.url, body ?? toolCall(1), options);
      expect(res.status).toBe(status);
      expect((JSON.parse(res.body) as { error: string }).error).toMatch(message);
      const r = receiver;
      await waitFor(
        async () => r.counter('rejected', { reason }),
        (n) => n === 1,
        2_000,
        `one ${reason} counted`,
      ); // counted on the main thread
      expect(receiver.counter('accepted', { agent: 'claude-code' })).toBe(0);
      if (status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer');
      if (status === 405) expect(res.headers.get('allow')).toBe('POST');
    });

    it('answers 404 for an agent whose hook format is not there yet', async () => {
      receiver = await startTestHooksReceiver();
      for (const agent of AGENTS.filter((a) => !hookFormats[a])) {
        const res = await postHook(receiver.url, toolCall(1), { path: `/v1/hooks/${agent}` });
        expect([res.status, res.body]).toEqual([404, expect.stringContaining(`hooks of ${agent} are not supported`)]);
      }
    });
  });

  it('fails to start, saying why, when its port is taken', async () => {
    receiver = await startTestHooksReceiver();
    await expect(startTestHooksReceiver({ endpoint: receiver.url.slice('http://'.length) })).rejects.toThrow(/cannot listen: .*EADDRINUSE/);
  });

  it('acknowledges before the pipeline has the payload', async () => {
    receiver = await startTestHooksReceiver();
    let release!: () => void;
    receiver.holdNext(new Promise((resolve) => (release = resolve)));
    const times: number[] = [];
    for (const i of range(20)) {
      const t0 = performance.now();
      expect((await postHook(receiver.url, toolCall(i))).status).toBe(200);
      times.push(performance.now() - t0);
    }
    expect(receiver.received).toHaveLength(0); // the pipeline has not taken anything yet
    expect(Math.max(...times)).toBeLessThan(250);
    release();
    const r = receiver;
    await waitFor(
      async () => toolIds(r.received).length,
      (n) => n === 20,
      5_000,
      '20 tool spans published',
    );
  });

  it('spools what the pipeline refuses and replays it once the pipeline is back: nothing lost, nothing twice', async () => {
    receiver = await startTestHooksReceiver({ batch_size: 8 });
    receiver.setDown(true);
    const n = 150;
    for (const i of range(n)) expect((await postHook(receiver.url, toolCall(i))).status).toBe(200);
    const r = receiver;
    await waitFor(
      async () => r.counter('spooled'),
      (s) => s === n,
      5_000,
      `${n} payloads spooled`,
    );
    expect(r.counter('publish_failures')).toBeGreaterThan(0);
    expect(r.received).toHaveLength(0);
    expect(readdirSync(path.join(r.dataDir, 'spool')).length).toBeGreaterThan(0);

    r.setDown(false);
    await waitFor(
      async () => r.counter('published'),
      (p) => p === n,
      10_000,
      `${n} payloads published`,
    );
    expect(toolIds(r.received).sort()).toEqual(
      range(n)
        .map((i) => `toolu_${i}`)
        .sort(),
    );
    expect(readdirSync(path.join(r.dataDir, 'spool'))).toEqual([]);
  });

  it('replays at start what an earlier run spooled', async () => {
    const first = await startTestHooksReceiver();
    first.setDown(true);
    for (const i of range(30)) expect((await postHook(first.url, toolCall(i))).status).toBe(200);
    await first.stop(); // what is still in memory goes to the spool
    expect(first.received).toHaveLength(0);
    expect(first.counter('spooled')).toBe(30);

    receiver = await startTestHooksReceiver({}, first.dataDir);
    const r = receiver;
    await waitFor(
      async () => r.counter('published'),
      (p) => p === 30,
      5_000,
      '30 replayed payloads',
    );
    expect(toolIds(r.received).sort()).toEqual(
      range(30)
        .map((i) => `toolu_${i}`)
        .sort(),
    );
  });

  it('answers 503 with Retry-After when memory and spool are full, and loses nothing it accepted', async () => {
    receiver = await startTestHooksReceiver({ queue_size: 5, batch_size: 5, spool: { max_size: 1 } });
    receiver.setDown(true);
    const statuses: number[] = [];
    for (const i of range(10)) {
      const res = await postHook(receiver.url, toolCall(i));
      statuses.push(res.status);
      if (res.status === 503) expect(res.headers.get('retry-after')).toBe('1');
    }
    const accepted = statuses.filter((s) => s === 200).length;
    expect(statuses).toEqual([...Array<number>(accepted).fill(200), ...Array<number>(10 - accepted).fill(503)]);
    expect(accepted).toBe(5);
    const r = receiver;
    await waitFor(
      async () => r.counter('rejected', { reason: 'queue_full' }),
      (n) => n === 5,
      2_000,
      'five queue_full counted',
    );

    receiver.setDown(false);
    await waitFor(
      async () => r.counter('published'),
      (p) => p === accepted,
      5_000,
      'the accepted payloads published',
    );
    expect(toolIds(r.received).sort()).toEqual(
      range(accepted)
        .map((i) => `toolu_${i}`)
        .sort(),
    );
  });
});

describe("what agentotel's wiring adds to a hook", () => {
  it('puts the resource attributes of the header or the payload and the git context on the resource, and takes the hook time', async () => {
    receiver = await startTestHooksReceiver();
    const ranAt = 1_763_769_600_123_000_000n;
    const body = JSON.stringify({
      ...JSON.parse(toolCall(1)),
      agentotel_git: { repository_url: 'https://github.com/acme/shop.git', branch: 'main', commit: 'abc123', insertions: 4 },
      agentotel_resource_attributes: 'user.email=ana%40example.com',
      agentotel_time_unix_nano: String(ranAt),
    });
    const res = await fetch(`${receiver.url}/v1/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-agentotel-resource-attributes': 'team=payments' },
      body,
    });
    expect(res.status).toBe(200);
    const r = receiver;
    await waitFor(
      async () => r.received.length,
      (n) => n === 1,
      5_000,
      'the payload published',
    );
    const [{ resource, span }] = [...eachSpan(r.received[0]!)];
    expect(attributesToMap(resource?.attributes)).toMatchObject({
      team: 'payments',
      'user.email': 'ana@example.com',
      'vcs.repository.url.full': 'https://github.com/acme/shop.git',
      'vcs.ref.head.name': 'main',
      'vcs.ref.head.revision': 'abc123',
      'agentotel.git.insertions': '4',
    });
    expect(span.startTimeUnixNano).toBe(String(ranAt));
  });
});
