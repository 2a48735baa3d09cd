/**
 * Cost per span of each step on the embedded pipeline's hot path, in one process, on the
 * same synthetic load as bench/pipeline.ts: OTLP protobuf decode, the receiver's id check,
 * the split into one message per trace, each processor, row mapping, the insert text
 * (JSONCompactEachRow, and JSONEachRow as the spool writes it), and the insert of each into a
 * fresh embedded engine (including how long one insert holds the event loop).
 *
 *   npx tsx bench/hot-path.ts [--spans 50000]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Fields } from '../core/config/fields.ts';
import { MetricsRegistry } from '../core/metrics.ts';
import { decodeProtobuf, encodeProtobuf } from '../core/otlp/codec.ts';
import type { TracesData } from '../core/otlp/model.ts';
import { splitByTrace } from '../core/otlp/traces.ts';
import { createClickHouseClient, insertJsonCompactEachRow, insertJsonEachRow } from '../exporters/clickhouse/client.ts';
import { parseConfig as parseClickHouseConfig } from '../exporters/clickhouse/config.ts';
import { jsonCompactEachRow, jsonEachRow, type Row } from '../exporters/clickhouse/json-each-row.ts';
import { runMigrations } from '../exporters/clickhouse/migrations.ts';
import { traceRows } from '../exporters/clickhouse/trace-rows.ts';
import { dedupeProcessorFactory } from '../processors/dedupe/index.ts';
import { enrichmentProcessorFactory } from '../processors/enrichment/index.ts';
import { redactionProcessorFactory } from '../processors/redaction/index.ts';
import { removeInvalidSpans } from '../receivers/otlp/span-ids.ts';
import { tempDir } from '../test/helpers/pipeline.ts';
import { makeRequests } from './load.ts';

const SPANS_PER_REQUEST = 500;
const { values } = parseArgs({ options: { spans: { type: 'string', default: '50000' } } });
const requests = Math.ceil(Number(values.spans) / SPANS_PER_REQUEST);
const spans = requests * SPANS_PER_REQUEST;

function step<T>(name: string, inputs: T[], run: (input: T) => unknown): void {
  for (const input of inputs.slice(0, 5)) run(input); // warm-up
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (const input of inputs) run(input);
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - wall;
  const usPerSpan = ((used.user + used.system) / spans).toFixed(2);
  console.log(`${name.padEnd(22)} ${usPerSpan.padStart(7)} µs/span CPU  ${((1_000 * ms) / spans).toFixed(2).padStart(7)} µs/span wall`);
}

const dir = tempDir('bench-hot-path');
const context = { id: 'bench', dataDir: dir, configDir: dir, metrics: new MetricsRegistry() };
const redaction = redactionProcessorFactory.create(
  redactionProcessorFactory.parseConfig(new Fields({ tier: 2 }, 'processors.redaction')),
  { ...context, recentOutput: async function* () {} },
);
const enrichment = enrichmentProcessorFactory.create(
  enrichmentProcessorFactory.parseConfig(new Fields({}, 'processors.enrichment')),
  { ...context, recentOutput: async function* () {} },
);

const dedupe = dedupeProcessorFactory.create(
  dedupeProcessorFactory.parseConfig(new Fields({}, 'processors.dedupe')),
  { ...context, recentOutput: async function* () {} },
);

const bodies = makeRequests(requests, SPANS_PER_REQUEST);
const decoded: TracesData[] = bodies.map((b) => decodeProtobuf('traces', b));
const messages: TracesData[] = decoded.flatMap((d) => [...splitByTrace(d).values()]);
const redacted = messages.map((m) => redaction.processTraces(m) as TracesData);
const enriched = redacted.map((m) => enrichment.processTraces(m) as TracesData);
const rows: Row[][] = enriched.map((m) => traceRows(m));

console.log(`${spans.toLocaleString('en')} spans in ${requests} requests of ${SPANS_PER_REQUEST}`);
step('decode protobuf', bodies, (b) => decodeProtobuf('traces', b));
step('encode protobuf', decoded, (d) => encodeProtobuf('traces', d));
step('receiver id check', decoded, (d) => removeInvalidSpans(d));
step('split by trace', decoded, (d) => splitByTrace(d));
step('redaction', messages, (m) => redaction.processTraces(m));
step('enrichment', redacted, (m) => enrichment.processTraces(m));
// One pass (a second would find every span seen); the warm-up makes 5 of the messages repeats.
step('dedupe', enriched, (m) => {
  dedupe.processTraces(m);
  dedupe.commit?.();
});
step('trace rows', enriched, (m) => traceRows(m));
step('JSONCompactEachRow', rows, (r) => jsonCompactEachRow(r));
step('JSONEachRow (spool)', rows, (r) => jsonEachRow(r));

const config = parseClickHouseConfig(new Fields({ endpoint: 'embedded', database: 'bench' }, 'exporters.clickhouse'));
const client = createClickHouseClient(config.connection, { dataDir: path.join(dir, 'ch'), configDir: dir });
await runMigrations(client, config.schema);
const table = `${config.schema.database}.${config.schema.tracesTable}`;
const perInsert = 10_000;
const all = rows.flat();
const slices: Row[][] = [];
for (let i = 0; i < all.length; i += perInsert) slices.push(all.slice(i, i + perInsert));

async function timeInserts(name: string, inserts: (() => Promise<void>)[]): Promise<void> {
  let longestTickMs = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestTickMs = Math.max(longestTickMs, now - last);
    last = now;
  }, 1);
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (const insert of inserts) await insert();
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - wall;
  clearInterval(ticker);
  console.log(
    `${name.padEnd(22)} ${((used.user + used.system) / spans).toFixed(2).padStart(7)} µs/span CPU  ${((1_000 * ms) / spans).toFixed(2).padStart(7)} µs/span wall` +
      `  longest event-loop stall ${longestTickMs.toFixed(0)} ms`,
  );
}

const compact = slices.map((r) => jsonCompactEachRow(r));
const objects = slices.map((r) => jsonEachRow(r));
await timeInserts(`insert compact (${perInsert})`, compact.map((body) => () => insertJsonCompactEachRow(client, table, body)));
await timeInserts(`insert JSONEachRow`, objects.map((body) => () => insertJsonEachRow(client, table, body)));
console.log(`bytes/row: compact ${Math.round(compact.reduce((n, c) => n + c.body.length, 0) / spans)}, JSONEachRow ${Math.round(objects.reduce((n, b) => n + b.length, 0) / spans)}`);
await client.close();
