/**
 * Log records are redacted like spans, with the default config: a Gemini-like hook record and
 * a foreign application's record, carrying an Anthropic key and an e-mail address in their
 * body and attributes, are sent over OTLP/HTTP and land in otel_logs masked, with the
 * redaction tier on each. Embedded (`runEmbedded`), and distributed: `agentotel worker
 * redaction` consumes <prefix>logs.received besides the traces topic.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { encodeProtobuf } from '../../core/otlp/codec.ts';
import type { KeyValue, LogsData } from '../../core/otlp/model.ts';
import { queryRows, type ClickHouseClient } from '../../exporters/clickhouse/index.ts';
import { useEmbeddedPipeline } from '../helpers/embedded-pipeline.ts';
import { kafkaBrokers, uniqueTopicPrefix } from '../helpers/kafka.ts';
import { count, defaultConfigFile, embeddedClient, INGEST_TOKEN, pipelineEnv, tempDir } from '../helpers/pipeline.ts';
import { scrapeCounter, startAgentotel, type AgentotelProcess } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

const KEY = 'sk-ant-api03-Zq8xW2vN5mK7pL3rT9yB4cH6jD1fG0sA-eXaMpLeKeY';
const EMAIL = 'jane.doe@example.com';

const attrs = (o: Record<string, string>): KeyValue[] => Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }));

/** Two resources (two bus messages): Gemini CLI's hook record, and a foreign service's log line. */
function secretLogs(run: string): LogsData {
  const now = `${Date.now()}000000`;
  return {
    resourceLogs: [
      {
        resource: { attributes: attrs({ 'service.name': 'gemini-cli', 'session.id': `s-${run}`, 'user.email': EMAIL }) },
        scopeLogs: [
          {
            scope: { name: 'gemini-cli' },
            logRecords: [
              {
                timeUnixNano: now,
                body: { stringValue: `gemini_cli.hook_call ${run}` },
                attributes: attrs({
                  'event.name': 'gemini_cli.hook_call',
                  hook_input: JSON.stringify({ prompt: `use ${KEY} and mail ${EMAIL}` }),
                  note: `ANTHROPIC_API_KEY=${KEY}`,
                }),
              },
            ],
          },
        ],
      },
      {
        resource: { attributes: attrs({ 'service.name': 'deploy-bot' }) },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: now,
                body: { stringValue: `${run}: calling the API with ${KEY} for ${EMAIL}` },
                attributes: attrs({ owner: EMAIL }),
              },
            ],
          },
        ],
      },
    ],
  };
}

async function postLogs(http: string, data: LogsData): Promise<void> {
  const res = await fetch(`http://${http}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${INGEST_TOKEN}` },
    body: new Uint8Array(encodeProtobuf('logs', data)),
  });
  expect(res.status).toBe(200);
}

interface LogRow {
  ServiceName: string;
  Body: string;
  LogAttributes: Record<string, string>;
  ResourceAttributes: Record<string, string>;
}

async function rowsOf(client: ClickHouseClient, run: string): Promise<LogRow[]> {
  return queryRows<LogRow>(
    client,
    `SELECT ServiceName, Body, LogAttributes, ResourceAttributes FROM agentotel.otel_logs
     WHERE position(Body, {run:String}) > 0 ORDER BY ServiceName`,
    { run },
  );
}

function expectRedacted(rows: LogRow[], run: string): void {
  expect(rows.map((r) => r.ServiceName)).toEqual(['deploy-bot', 'gemini-cli']);
  const text = JSON.stringify(rows);
  expect(text).not.toContain('sk-ant-');
  expect(text).not.toContain(EMAIL);
  const [foreign, gemini] = rows as [LogRow, LogRow];
  expect(foreign.Body).toBe(`${run}: calling the API with [REDACTED:anthropic_key] for [REDACTED:email]`);
  expect(foreign.LogAttributes['agentotel.redaction.tier']).toBe('2');
  expect(gemini.LogAttributes).toMatchObject({
    note: 'ANTHROPIC_API_KEY=[REDACTED:anthropic_key]',
    'event.name': 'gemini_cli.hook_call',
    'agentotel.redaction.tier': '2',
  });
  // Tier 2 keeps no prompts: hook_input is dropped.
  expect(gemini.LogAttributes.hook_input).toBeUndefined();
}

describe('log records redacted in embedded mode', () => {
  const pipeline = useEmbeddedPipeline('logs-redaction');

  it('stores a Gemini hook record and a foreign log line with their secrets masked', async () => {
    await postLogs(pipeline.service.endpoints['otlp.http']!, secretLogs('embedded-run'));
    const rows = await waitFor(
      () => rowsOf(pipeline.client, 'embedded-run'),
      (r) => r.length >= 2,
      30_000,
      'the two log records in otel_logs',
    );
    expectRedacted(rows, 'embedded-run');
    expect(await pipeline.service.metrics.render()).toMatch(
      /agentotel_worker_consumed_log_records_total\{signal="logs",stage="redaction"\} 2\b/,
    );
  });
});

describe('log records redacted in distributed mode', () => {
  const dataDir = tempDir('logs-redaction-distributed');
  const running: AgentotelProcess[] = [];
  let env: NodeJS.ProcessEnv;
  const start = async (name: string, args: string[]) => {
    const p = startAgentotel(name, [...args, '-c', defaultConfigFile], env);
    running.push(p);
    return (await p.ready).endpoints;
  };

  beforeAll(async () => {
    env = pipelineEnv(dataDir, { AGENTOTEL_KAFKA_BROKERS: kafkaBrokers().join(','), AGENTOTEL_TOPIC_PREFIX: uniqueTopicPrefix('logs') });
  }, 10_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
  });

  it('`agentotel worker redaction` consumes the logs topic too', async () => {
    onTestFailed(() => {
      for (const p of running) console.error(`--- ${p.name} (last output)\n${p.output().slice(-3_000)}`);
    });
    const receiver = await start('receiver', ['receiver']); // creates the topics
    const [worker, exporter] = await Promise.all([
      start('redaction', ['worker', 'redaction']),
      start('exporter', ['exporter', 'clickhouse']),
    ]);
    await postLogs(receiver['otlp.http']!, secretLogs('distributed-run'));
    await waitFor(
      () => scrapeCounter(exporter.telemetry!, 'agentotel_clickhouse_rows_written_total', 'otel_logs'),
      (n) => n >= 2,
      60_000,
      'two log rows written by the exporter',
    );
    expect(await scrapeCounter(worker.telemetry!, 'agentotel_worker_consumed_log_records_total', 'signal="logs"')).toBe(2);
    // The embedded engine belongs to one process: stop the exporter, then read.
    expect(await running.find((p) => p.name === 'exporter')!.stop('SIGTERM')).toBe(0);
    const client = embeddedClient(dataDir);
    try {
      expect(await count(client, 'SELECT count() AS n FROM agentotel.otel_logs')).toBe(2);
      expectRedacted(await rowsOf(client, 'distributed-run'), 'distributed-run');
    } finally {
      await client.close();
    }
  });
});
