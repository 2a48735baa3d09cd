/**
 * `agentotel dlq` with the real CLI: a worker whose processor refuses a span dead-letters it
 * and goes on; once the processor is fixed (a config change), `dlq replay` sends the letter
 * back to the stage's input and the span lands in ClickHouse exactly once; a second replay
 * sends nothing. On the real Kafka broker (workers and exporter as processes) and in embedded
 * mode (the dead-letter files, queued for the running process). `dlq list` never shows payloads.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { KafkaBus } from '../../core/bus/kafka.ts';
import { signalTopic } from '../../core/bus/topics.ts';
import { encodeProtobuf } from '../../core/otlp/codec.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { queryRows } from '../../exporters/clickhouse/index.ts';
import { loadServiceConfig, runEmbedded, type RunningService } from '../../service/service.ts';
import { kafkaBrokers, uniqueTopicPrefix } from '../helpers/kafka.ts';
import { embeddedClient, pipelineEnv, repoRoot, tempDir } from '../helpers/pipeline.ts';
import { scrapeCounter, startAgentotel, type AgentotelProcess } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const dataDir = tempDir('dlq');
const configFile = path.join(dataDir, 'agentotel.yaml');
/** A value in the refused span that `dlq list` and `dlq replay` must never print. */
const SECRET = 'sk-ant-api03-dlq-test-not-to-be-printed';

/** A processor plugin that refuses spans whose `test.gate` attribute is its `refuse` setting: a processor with a bug to fix. */
const GATE_PLUGIN = `
export const factory = {
  kind: 'processor',
  type: 'gate',
  parseConfig(fields) {
    const refuse = fields.string('refuse', '');
    fields.done();
    return { refuse };
  },
  create: ({ refuse }) => ({
    processTraces(data) {
      for (const rs of data.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const span of ss.spans ?? [])
            if (refuse && (span.attributes ?? []).some((a) => a.key === 'test.gate' && a.value?.stringValue === refuse))
              throw new Error('span "' + span.name + '" refused by gate rule "' + refuse + '"');
      return data;
    },
  }),
};
`;

function writeConfig(refuse: string, bus: { prefix: string; brokers?: string[] }): void {
  writeFileSync(
    configFile,
    `
data_dir: ${dataDir}
plugins: [./gate.mjs]
receivers:
  otlp:
    protocols: { http: { endpoint: 127.0.0.1:0 } }
processors:
  gate: { refuse: "${refuse}" }
  dedupe: { merge_window: 1s }
exporters:
  clickhouse: { database: agentotel }
bus:
  topic_prefix: ${bus.prefix}
  kafka: { brokers: [${(bus.brokers ?? ['127.0.0.1:9']).join(', ')}], partitions: 2, session_timeout: 3s }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [gate, dedupe], exporters: [clickhouse] }
  telemetry: { metrics: { address: 127.0.0.1:0 }, logs: { level: warn } }
`,
  );
}

/** One message with one foreign span; `gate` marks it for the gate rule. */
function spanMessage(name: string, n: number, gate = ''): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: [] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: n.toString(16).padStart(32, 'a'),
                spanId: n.toString(16).padStart(16, 'b'),
                name,
                startTimeUnixNano: '1763769600000000000',
                endTimeUnixNano: '1763769601000000000',
                attributes: [
                  { key: 'test.gate', value: { stringValue: gate } },
                  { key: 'test.detail', value: { stringValue: SECRET } },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

interface ReplaySummary {
  source: string;
  dryRun: boolean;
  queued: boolean;
  replayed: number;
  skipped: number;
  stages: Record<string, { replayed: number; skipped: number; skippedBecause: Record<string, number> }>;
}
interface ListSummary {
  source: string;
  letters: number;
  groups: { stage: string; error: string; count: number; replayed: number; newest: string }[];
}

/** Runs `agentotel dlq <args> -c <config> --json` and returns what it printed, parsed (and checks no payload was printed). */
async function dlq<T>(...args: string[]): Promise<T> {
  const { stdout, stderr } = await run(
    process.execPath,
    [path.join(repoRoot, 'bin/agentotel.js'), 'dlq', ...args, '-c', configFile, '--json'],
    {
      cwd: repoRoot,
      env: pipelineEnv(dataDir),
    },
  );
  expect(stdout + stderr).not.toContain(SECRET);
  return JSON.parse(stdout) as T;
}

async function rowsNamed(name: string): Promise<number> {
  const client = embeddedClient(dataDir);
  try {
    const [row] = await queryRows<{ n: string }>(client, 'SELECT count() AS n FROM agentotel.otel_traces WHERE SpanName = {name:String}', {
      name,
    });
    return Number(row?.n ?? 0);
  } finally {
    await client.close();
  }
}

beforeAll(() => {
  writeFileSync(path.join(dataDir, 'gate.mjs'), GATE_PLUGIN);
});

describe('agentotel dlq on Kafka', () => {
  const prefix = uniqueTopicPrefix('dlq');
  const running = new Map<string, AgentotelProcess>();
  let bus: KafkaBus;
  const start = async (name: string, args: string[]) => {
    const p = startAgentotel(name, [...args, '-c', configFile], pipelineEnv(dataDir));
    running.set(name, p);
    await p.ready;
  };
  const rowsWritten = async () =>
    scrapeCounter((await running.get('exporter')!.ready).endpoints.telemetry!, 'agentotel_clickhouse_rows_written_total', 'otel_traces');

  beforeAll(async () => {
    writeConfig('poison', { prefix, brokers: kafkaBrokers() });
    bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'dlq-test', partitions: 2, replicationFactor: 1 });
    await start('exporter', ['exporter', 'clickhouse']);
    await start('worker', ['worker', 'gate,dedupe']);
  }, 120_000);

  afterAll(async () => {
    await bus?.close();
    await Promise.all([...running.values()].map((p) => p.stop('SIGKILL')));
  });

  it('a refused span is dead-lettered; after the fix, replay sends it once and it lands in ClickHouse once; again, nothing', async () => {
    onTestFailed(() => {
      for (const p of running.values()) console.error(`--- ${p.name} (last output)\n${p.output().slice(-3_000)}`);
    });
    const received = signalTopic(`${prefix}traces.received`, 'traces');
    await bus.publish(received, [
      { key: 'a', value: spanMessage('kafka fine', 1) },
      { key: 'b', value: spanMessage('kafka refused', 2, 'poison'), headers: { 'x-session': 's-2' } },
      { key: 'c', value: spanMessage('kafka after', 3) },
    ]);
    // The worker goes on past the refused message.
    await waitFor(rowsWritten, (n) => n >= 2, 60_000, 'the two other spans written');
    const listed = await waitFor(
      () => dlq<ListSummary>('list'),
      (l) => l.letters === 1,
      30_000,
      'one dead letter',
    );
    expect(listed.source).toBe(`Kafka topic ${prefix}deadletter`);
    expect(listed.groups).toEqual([
      {
        stage: 'gate+dedupe',
        error: 'gate: span "kafka refused" refused by gate rule "poison"',
        count: 1,
        replayed: 0,
        newest: expect.stringMatching(/^20\d\d-/) as string,
      },
    ]);

    const misspelt = await run(
      process.execPath,
      [path.join(repoRoot, 'bin/agentotel.js'), 'dlq', 'list', '--topic', `${prefix}deadleter`, '-c', configFile],
      {
        cwd: repoRoot,
        env: pipelineEnv(dataDir),
      },
    ).catch((err: { code: number; stderr: string }) => err);
    expect(misspelt).toMatchObject({ code: 1, stderr: expect.stringContaining(`there is no topic ${prefix}deadleter`) as string });

    // Before the fix, a dry run says what would be sent, and sends nothing.
    expect(await dlq<ReplaySummary>('replay', '--dry-run')).toMatchObject({ dryRun: true, replayed: 1, skipped: 0 });
    // The fix: the gate refuses nothing any more.
    expect(await running.get('worker')!.stop('SIGTERM')).toBe(0);
    writeConfig('', { prefix, brokers: kafkaBrokers() });
    await start('worker', ['worker', 'gate,dedupe']);

    expect(await dlq<ReplaySummary>('replay', '--stage', 'gate')).toMatchObject({
      queued: false,
      replayed: 1,
      skipped: 0,
      stages: { 'gate+dedupe': { replayed: 1, skipped: 0 } },
    });
    await waitFor(rowsWritten, (n) => n >= 3, 60_000, 'the replayed span written');
    // Sent again with its key and its own headers, saying where from.
    const again = (await bus.read(received.name)).filter((r) => r.headers['agentotel.replayed.from']);
    expect(again.map((r) => ({ key: r.key, headers: r.headers }))).toEqual([
      {
        key: 'b',
        headers: { 'x-session': 's-2', 'agentotel.replayed.from': expect.stringMatching(new RegExp(`^${prefix}deadletter/\\d+:\\d+$`)) },
      },
    ]);
    expect(await dlq<ReplaySummary>('replay')).toMatchObject({
      replayed: 0,
      skipped: 1,
      stages: { 'gate+dedupe': { replayed: 0, skipped: 1, skippedBecause: { 'already replayed': 1 } } },
    });
    expect((await dlq<ListSummary>('list')).groups[0]).toMatchObject({ count: 1, replayed: 1 });

    await new Promise((r) => setTimeout(r, 2_000)); // a second copy would have been written by now
    expect(await running.get('exporter')!.stop('SIGTERM')).toBe(0);
    expect(await rowsNamed('kafka refused')).toBe(1);
    expect(await rowsNamed('kafka fine')).toBe(1);
  }, 180_000);
});

describe('agentotel dlq in embedded mode', () => {
  let service: RunningService | undefined;
  const up = async () => {
    service = await runEmbedded(await loadServiceConfig(configFile, pipelineEnv(dataDir)));
  };
  afterAll(async () => {
    await service?.stop();
  });

  async function post(data: TracesData): Promise<void> {
    const res = await fetch(`http://${service!.endpoints['otlp.http']}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array(encodeProtobuf('traces', data)),
    });
    expect(res.status).toBe(200);
  }

  it('the dead-letter file is replayed through the running process once the processor is fixed, once', async () => {
    writeConfig('poison', { prefix: 'agentotel.' });
    await up();
    await post(spanMessage('embedded fine', 11));
    await post(spanMessage('embedded refused', 12, 'poison'));
    await waitFor(
      () => rowsNamed('embedded fine'),
      (n) => n === 1,
      30_000,
      'the other span written',
    );
    const listed = await waitFor(
      () => dlq<ListSummary>('list'),
      (l) => l.letters === 1,
      30_000,
      'one dead letter in the file',
    );
    expect(listed.source).toBe(`files in ${path.join(dataDir, 'deadletter')}`);
    expect(listed.groups[0]).toMatchObject({ stage: 'gate', count: 1, replayed: 0 });

    // The fix, and agentotel up started again with it.
    await service!.stop();
    writeConfig('', { prefix: 'agentotel.' });
    await up();
    expect(await dlq<ReplaySummary>('replay')).toMatchObject({ queued: true, replayed: 1, skipped: 0, stages: { gate: { replayed: 1 } } });
    await waitFor(
      () => rowsNamed('embedded refused'),
      (n) => n === 1,
      30_000,
      'the replayed span written',
    );
    expect(await dlq<ReplaySummary>('replay')).toMatchObject({ replayed: 0, skipped: 1 });

    await new Promise((r) => setTimeout(r, 2_000));
    expect(await rowsNamed('embedded refused')).toBe(1);
    const pending = path.join(dataDir, 'deadletter', 'replay', 'pending');
    expect(existsSync(pending) ? readdirSync(pending) : []).toEqual([]);
  }, 120_000);
});
