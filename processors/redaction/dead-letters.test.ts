/**
 * Raw values never reach logs, metrics or errors: the redaction stage on the in-process bus (as
 * `agentotel up` runs it) gets a message it cannot walk, next to secrets. It dead-letters the
 * message and goes on; the dead letter's error, every log line the stage wrote and the
 * metrics name where and what, never a value. (The dead letter's payload is the original
 * message, by design: it is re-driven through redaction after a fix.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { InProcessBus } from '../../core/bus/inprocess.ts';
import { signalTopic } from '../../core/bus/topics.ts';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { Span, TracesData } from '../../core/otlp/model.ts';
import { fileDeadLetters } from '../../service/deadletters.ts';
import { runProcessorStage } from '../../service/processor-stage.ts';
import type { ProcessorStage } from '../../service/topology.ts';
import { tempDir } from '../../test/helpers/pipeline.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { redactionProcessorFactory } from './index.ts';

const SECRETS = [
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  'jane.doe@example.com',
  'hunter2hunter2',
];

const message = (spanId: string, broken: boolean): TracesData => {
  const span: Span = {
    traceId: 'ab'.repeat(16),
    spanId,
    name: `execute_tool Bash for ${SECRETS[2]}`,
    startTimeUnixNano: '1',
    endTimeUnixNano: '2',
    status: { code: 2, message: `password=${SECRETS[3]}` },
    attributes: [
      { key: 'gen_ai.tool.call.result', value: { stringValue: `AWS_SECRET_ACCESS_KEY=${SECRETS[0]}` } },
      // A value no OTLP decoder produces, as a plugin receiver might hand one over: the key itself holds a token.
      ...(broken ? [{ key: `note ${SECRETS[1]}`, value: { stringValue: 42 as unknown as string } }] : []),
    ],
  };
  return {
    resourceSpans: [
      { resource: { attributes: [{ key: 'user.email', value: { stringValue: SECRETS[2] } }] }, scopeSpans: [{ spans: [span] }] },
    ],
  };
};

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

it('dead-letters a message it cannot walk with an error, log lines and metrics that hold no secret, and goes on', async () => {
  const dir = tempDir('redaction-dlq');
  const logged: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged.push(String(chunk));
    return write(chunk, ...(rest as []));
  });
  cleanup.push(() => spy.mockRestore());

  const bus = new InProcessBus();
  cleanup.push(() => bus.close());
  const config = redactionProcessorFactory.parseConfig(new Fields({ tier: 3 }, 'processors.redaction'));
  const stage: ProcessorStage = {
    pipeline: {
      id: 'traces',
      signal: 'traces',
      receivers: [],
      processors: [{ id: 'redaction', factory: redactionProcessorFactory, config }],
      exporters: [],
    },
    index: 0,
    count: 1,
    input: signalTopic('agentotel.traces.received', 'traces'),
    output: signalTopic('agentotel.traces.redaction', 'traces'),
    group: 'agentotel.traces.redaction',
  };
  const metrics = new MetricsRegistry();
  const processor = redactionProcessorFactory.create(config, {
    id: 'redaction',
    dataDir: dir,
    configDir: dir,
    metrics,
    recentOutput: async function* () {},
  });
  const running = await runProcessorStage(bus, stage, processor, fileDeadLetters(dir), metrics);
  cleanup.push(() => running.stop());

  const published: TracesData[] = [];
  await bus.subscribe(stage.output, { group: 'test' }, async (batch) => {
    for (const m of batch) if (m.ok) published.push(m.value);
  });
  await bus.publish(stage.input, [
    { key: 'ab'.repeat(16), value: message('00000000000000aa', true) },
    { key: 'ab'.repeat(16), value: message('00000000000000bb', false) },
  ]);

  const folder = path.join(dir, 'deadletter');
  await waitFor(
    async () => (published.length > 0 && readdirSync(folder, { withFileTypes: true }).length > 0 ? 1 : 0),
    (n) => n === 1,
    10_000,
    'a dead letter and the next message published',
  );
  const letter = JSON.parse(
    readFileSync(path.join(folder, readdirSync(folder)[0]!), 'utf8')
      .trim()
      .split('\n')[0]!,
  ) as { headers: Record<string, string> };
  expect(letter.headers['agentotel.error']).toBe(
    'span 00000000000000aa: attribute "note [REDACTED:github_token]": stringValue is not a string',
  );
  expect(JSON.stringify(published)).toContain('[REDACTED:aws_secret_key]');

  const exposed = [JSON.stringify(letter.headers), logged.join(''), metrics.render(), JSON.stringify(published)].join('\n');
  expect(logged.join('')).toContain('rejected a message');
  for (const secret of SECRETS) expect(exposed, secret).not.toContain(secret);
});
