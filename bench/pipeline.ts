/**
 * Benchmark: OTLP in → rows queryable in ClickHouse, for the embedded and the distributed
 * mode, against a ceiling measured in the same run (the same rows inserted straight into the
 * same engine through the ClickHouse exporter, no receiver, bus or processors).
 *
 *   npx tsx bench/pipeline.ts [--mode embedded|distributed|chained|both] [--spans 200000] [--brokers host:port]
 *
 * Prints spans/s, OTLP ack p50/p99 at 1,000 spans/s offered, end-to-end p50/p99 (request
 * sent → its rows written), peak RSS of every process, and at full speed each process's CPU
 * per span by thread group (see process-cpu.ts) and the number of trace inserts.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Fields } from '../core/config/fields.ts';
import { decodeProtobuf } from '../core/otlp/codec.ts';
import { MetricsRegistry } from '../core/metrics.ts';
import { clickhouseExporterFactory } from '../exporters/clickhouse/index.ts';
import { defaultConfigFile, INGEST_TOKEN, pipelineEnv, tempDir } from '../test/helpers/pipeline.ts';
import { scrapeCounter, startAgentotel, type AgentotelProcess } from '../test/helpers/processes.ts';
import { makeRequests } from './load.ts';
import { cpuPerItem, threadCpuMs } from './process-cpu.ts';

const ROWS_METRIC = 'agentotel_clickhouse_rows_written_total';
const SPANS_PER_REQUEST = 500;

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'both' },
    spans: { type: 'string', default: '200000' },
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092' },
  },
});
const totalSpans = Number(values.spans);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function post(address: string, body: Uint8Array): Promise<number> {
  const t0 = performance.now();
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port: Number(port),
        path: '/v1/traces',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${INGEST_TOKEN}`, 'content-length': body.byteLength },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`receiver answered ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function rowsWritten(telemetry: string): Promise<number> {
  // A kept-alive connection the server just closed resets now and then: scrape again once.
  return scrapeCounter(telemetry, ROWS_METRIC, 'otel_traces').catch(() => scrapeCounter(telemetry, ROWS_METRIC, 'otel_traces'));
}

/** Waits until `target` rows are written; fails when the count stops growing for `stallMs`. */
async function waitRows(telemetry: string, target: number, stallMs = 60_000): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const rows = await rowsWritten(telemetry);
    if (rows >= target) return;
    if (rows !== last) [last, lastChange] = [rows, Date.now()];
    else if (Date.now() - lastChange > stallMs) throw new Error(`rows stalled at ${rows} of ${target} for ${stallMs / 1_000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** On a failed run: what each process printed (warnings and errors), to see where it stuck. */
function printOutputs(processes: AgentotelProcess[]): void {
  for (const p of processes) console.error(`--- ${p.name} output (last 3,000 characters)\n${p.output().slice(-3_000)}`);
}

interface Result {
  spansPerSecond: number;
  ackP50: number;
  ackP99: number;
  e2eP50: number;
  e2eP99: number;
  rssMiB: Record<string, number>;
  /** Per process: CPU µs per span during the throughput phase, by thread group. */
  cpuUs: Record<string, string>;
  /** Trace inserts during the throughput phase. */
  inserts: number;
}

function insertCount(telemetry: string): Promise<number> {
  return scrapeCounter(telemetry, 'agentotel_clickhouse_insert_duration_seconds_count', 'otel_traces');
}

/** Throughput at full speed, then ack and end-to-end latency at 1,000 spans/s offered. */
async function measure(http: string, exporterTelemetry: string, processes: AgentotelProcess[]): Promise<Result> {
  const bodies = makeRequests(Math.ceil(totalSpans / SPANS_PER_REQUEST), SPANS_PER_REQUEST);
  const base = await rowsWritten(exporterTelemetry);
  const insertsBefore = await insertCount(exporterTelemetry);
  const cpuBefore = processes.map((p) => threadCpuMs(p.child.pid!));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < bodies.length) await post(http, bodies[next++]!);
    }),
  );
  await waitRows(exporterTelemetry, base + bodies.length * SPANS_PER_REQUEST);
  const spansPerSecond = (bodies.length * SPANS_PER_REQUEST) / ((performance.now() - started) / 1_000);
  const cpuUs = Object.fromEntries(processes.map((p, i) => [p.name, cpuPerItem(cpuBefore[i]!, threadCpuMs(p.child.pid!), bodies.length * SPANS_PER_REQUEST)]));
  const inserts = (await insertCount(exporterTelemetry)) - insertsBefore;

  // 1,000 spans/s: 20 requests of 50 spans per second for 15 s.
  const paced = makeRequests(300, 50);
  const acks: number[] = [];
  const e2e: number[] = [];
  let expected = await rowsWritten(exporterTelemetry);
  const pending: { target: number; sentAt: number }[] = [];
  let sending = true;
  const watcher = (async () => {
    while (sending || pending.length > 0) {
      const rows = await rowsWritten(exporterTelemetry);
      const now = performance.now();
      while (pending.length > 0 && pending[0]!.target <= rows) e2e.push(now - pending.shift()!.sentAt);
      await new Promise((r) => setTimeout(r, 20)); // a scrape is work for the process measured: not too often
    }
  })();
  const t0 = performance.now();
  await Promise.all(
    paced.map(async (body, i) => {
      const at = t0 + i * 50;
      await new Promise((r) => setTimeout(r, Math.max(0, at - performance.now())));
      expected += 50;
      pending.push({ target: expected, sentAt: performance.now() });
      acks.push(await post(http, body));
    }),
  );
  sending = false;
  await watcher;
  acks.sort((a, b) => a - b);
  e2e.sort((a, b) => a - b);
  const rssMiB = Object.fromEntries(processes.map((p) => [p.name, Math.round(peakRssMiB(p.child.pid!))]));
  return { spansPerSecond, ackP50: percentile(acks, 50), ackP99: percentile(acks, 99), e2eP50: percentile(e2e, 50), e2eP99: percentile(e2e, 99), rssMiB, cpuUs, inserts };
}

async function embedded(): Promise<Result> {
  const dir = tempDir('bench-embedded');
  const up = startAgentotel('embedded', ['up', '--json', '-c', defaultConfigFile], pipelineEnv(dir));
  try {
    const { endpoints } = await up.ready;
    return await measure(endpoints['otlp.http']!, endpoints.telemetry!, [up]);
  } catch (err) {
    printOutputs([up]);
    throw err;
  } finally {
    await up.stop('SIGTERM');
  }
}

/** Kafka between the stages; each worker in `workers` is one process (a comma list runs processors together). */
async function distributed(workers: string[]): Promise<Result> {
  const dir = tempDir('bench-distributed');
  const env = pipelineEnv(dir, { AGENTOTEL_KAFKA_BROKERS: values.brokers!, AGENTOTEL_TOPIC_PREFIX: `bench.${Date.now()}.` });
  const receiver = startAgentotel('receiver', ['receiver', '-c', defaultConfigFile], env);
  const procs = [receiver];
  try {
    await receiver.ready;
    for (const w of workers) procs.push(startAgentotel(w, ['worker', w, '-c', defaultConfigFile], env));
    procs.push(startAgentotel('exporter', ['exporter', 'clickhouse', '-c', defaultConfigFile], env));
    await Promise.all(procs.map((p) => p.ready));
    const http = (await receiver.ready).endpoints['otlp.http']!;
    const exporterTelemetry = (await procs.at(-1)!.ready).endpoints.telemetry!;
    return await measure(http, exporterTelemetry, procs);
  } catch (err) {
    printOutputs(procs);
    throw err;
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  }
}

/** The same rows straight into a fresh embedded engine through the exporter: the sink's ceiling. */
async function ceiling(): Promise<number> {
  const dir = tempDir('bench-ceiling');
  const config = clickhouseExporterFactory.parseConfig(new Fields({ endpoint: 'embedded', database: 'agentotel' }, 'exporters.clickhouse'));
  const exporter = clickhouseExporterFactory.create(config, {
    id: 'clickhouse',
    dataDir: path.join(dir, 'clickhouse'),
    configDir: dir,
    metrics: new MetricsRegistry(),
    durableBus: false,
  });
  await exporter.start();
  const bodies = makeRequests(Math.ceil(totalSpans / SPANS_PER_REQUEST), SPANS_PER_REQUEST);
  const started = performance.now();
  await Promise.all(
    bodies.map((b, i) => exporter.export('traces', [{ value: decodeProtobuf('traces', b), topic: 'bench', partition: 0, offset: String(i) }])),
  );
  const seconds = (performance.now() - started) / 1_000;
  await exporter.shutdown();
  return (bodies.length * SPANS_PER_REQUEST) / seconds;
}

function report(name: string, r: Result, ceilingRate: number): void {
  console.log(
    `${name.padEnd(12)} ${Math.round(r.spansPerSecond).toLocaleString('en').padStart(9)} spans/s (${Math.round((100 * r.spansPerSecond) / ceilingRate)}% of ceiling)` +
      `  ack p50 ${r.ackP50.toFixed(1)} ms p99 ${r.ackP99.toFixed(1)} ms` +
      `  e2e p50 ${r.e2eP50.toFixed(0)} ms p99 ${r.e2eP99.toFixed(0)} ms` +
      `  peak RSS ${Object.entries(r.rssMiB).map(([k, v]) => `${k} ${v} MiB`).join(', ')}`,
  );
  console.log(`  CPU µs/span at full speed: ${Object.entries(r.cpuUs).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  console.log(`  trace inserts at full speed: ${r.inserts} (${r.inserts > 0 ? Math.round(totalSpans / r.inserts) : 0} rows each)`);
}

// The pipelines first: the ceiling's engine stays loaded in this process afterwards, merging
// in the background, and would take CPU from them.
const results: [string, Result][] = [];
if (values.mode === 'embedded' || values.mode === 'both') results.push(['embedded', await embedded()]);
if (values.mode === 'distributed' || values.mode === 'both') results.push(['distributed', await distributed(['redaction', 'enrichment', 'dedupe'])]);
if (values.mode === 'chained' || values.mode === 'both') results.push(['chained', await distributed(['redaction,enrichment,dedupe'])]);
const ceilingRate = await ceiling();
console.log(`ceiling      ${Math.round(ceilingRate).toLocaleString('en').padStart(9)} spans/s (same rows inserted straight into the embedded engine)`);
for (const [name, r] of results) report(name, r, ceilingRate);
process.exit(0);
