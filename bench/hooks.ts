/**
 * Hooks receiver ack latency: 1,000 hook requests/s (the Claude Code fixture sessions' real
 * payloads, each session copied under new session ids) for 10 s, open loop, against
 *   1. a bare node:http server in its own process that answers 200 `{}` without any work (the baseline), and
 *   2. `agentotel up` (embedded mode: receivers, processors and the embedded ClickHouse in one process).
 * Prints ack p50/p99/max and the achieved rate of both, and how long the pipeline took to publish the backlog.
 * Target: ack p99 <= 5 ms at 1,000 req/s.
 *
 *   npx tsx bench/hooks.ts [--rate 1000] [--seconds 10]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { claudeCodeHookScenarios } from '../receivers/hooks/test-harness.ts';
import { defaultConfigFile, INGEST_TOKEN, pipelineEnv, tempDir } from '../test/helpers/pipeline.ts';
import { scrapeCounter, startAgentotel } from '../test/helpers/processes.ts';
import { threadCpuMs, cpuPerItem } from './process-cpu.ts';
import { waitFor } from '../test/helpers/wait.ts';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '10' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);

/** `n` request bodies: the fixture sessions' hooks in order, session after session, each copy a new session id. */
function hookBodies(n: number): Buffer[] {
  const sessions = claudeCodeHookScenarios().map((s) => s.hooks.map((h) => JSON.parse(h.body) as Record<string, unknown>));
  const bodies: Buffer[] = [];
  for (let copy = 0; bodies.length < n; copy++) {
    for (const hook of sessions[copy % sessions.length]!) {
      bodies.push(Buffer.from(JSON.stringify({ ...hook, session_id: `${String(hook.session_id)}-bench-${copy}` })));
    }
  }
  return bodies.slice(0, n);
}

interface Run {
  acks: number[];
  errors: number;
  seconds: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(address: string, body: Buffer): Promise<number> {
  const [host, port] = address.split(':');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port: Number(port),
        path: '/v1/hooks',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_TOKEN}`, 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`answered ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends every body at its slot of a `rate`/s schedule (in 1 ms ticks), whatever the answers. */
async function offer(address: string, bodies: Buffer[]): Promise<Run> {
  const acks: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  let sent = 0;
  while (sent < bodies.length) {
    const due = Math.min(bodies.length, Math.floor(((performance.now() - t0) * rate) / 1_000) + 1);
    for (; sent < due; sent++) {
      inFlight.push(
        post(address, bodies[sent]!).then(
          (ms) => void acks.push(ms),
          () => void errors++,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  return { acks, errors, seconds: (performance.now() - t0) / 1_000 };
}

function report(name: string, run: Run): { p99: number } {
  const sorted = [...run.acks].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
  console.log(
    `${name.padEnd(34)} ack p50 ${fmt(at(50))}  p99 ${fmt(at(99))}  max ${fmt(sorted.at(-1)!)}  ` +
      `${Math.round(sorted.length / run.seconds)} req/s achieved (${sorted.length} ok, ${run.errors} failed)`,
  );
  return { p99: at(99) };
}

const BARE_SERVER = `
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }); res.end('{}'); });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function baseline(bodies: Buffer[]): Promise<Run> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    await offer(`127.0.0.1:${port}`, bodies.slice(0, rate)); // warm-up
    return await offer(`127.0.0.1:${port}`, bodies);
  } finally {
    child.kill();
  }
}

async function hooksReceiver(bodies: Buffer[]): Promise<Run> {
  const up = startAgentotel('embedded', ['up', '--json', '-c', defaultConfigFile], pipelineEnv(tempDir('bench-hooks')));
  try {
    const { endpoints } = await up.ready;
    const address = endpoints['hooks.http']!;
    const published = () => scrapeCounter(endpoints.telemetry!, 'agentotel_hooks_published_total');
    await offer(address, bodies.slice(bodies.length - rate)); // warm-up: other sessions than the measured ones
    const cpuBefore = threadCpuMs(up.child.pid!);
    const run = await offer(address, bodies.slice(0, bodies.length - rate));
    const sentAt = performance.now();
    await waitFor(published, (n) => n >= bodies.length, 60_000, 'every payload published');
    const cpu = cpuPerItem(cpuBefore, threadCpuMs(up.child.pid!), bodies.length - rate);
    console.log(
      `  (every payload published ${Math.round(performance.now() - sentAt)} ms after the last ack; agentotel CPU µs/request ${cpu})`,
    );
    return run;
  } finally {
    await up.stop();
  }
}

const bodies = hookBodies(rate * (seconds + 1));
console.log(`hooks bench: ${rate} req/s for ${seconds} s, ${bodies.length} fixture hook payloads (warm-up included)`);
const bare = report('bare node:http server (baseline)', await baseline(bodies.slice(0, rate * seconds)));
const hooks = report('hooks receiver (agentotel up)', await hooksReceiver(bodies));
console.log(`p99 over baseline: +${(hooks.p99 - bare.p99).toFixed(2)} ms; target p99 <= 5 ms: ${hooks.p99 <= 5 ? 'met' : 'NOT met'}`);
agent.destroy();
