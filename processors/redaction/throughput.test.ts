/**
 * Throughput of the processor on one core over real session text (the g-secrets transcript,
 * one record per attribute). The target is 20 MB/s; the assertion sits below it so a busy
 * machine does not fail the build, and the figure is printed.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { redactionProcessorFactory } from './index.ts';

const DIR = '/work/shared/fixtures/claude-code/g-secrets/transcripts';
const FLOOR_MB_S = 10;

it(`redacts session text at ≥ ${FLOOR_MB_S} MB/s on one core`, async () => {
  const text = readFileSync(
    path.join(
      DIR,
      readdirSync(DIR).find((f) => f.endsWith('.jsonl'))!,
    ),
    'utf8',
  );
  const records = text.split('\n').filter(Boolean);
  const message: TracesData = {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: records.map((record, i) => ({
              traceId: '0af7651916cd43dd8448eb211c80319c',
              spanId: (i + 1).toString(16).padStart(16, '0'),
              name: 'transcript record',
              startTimeUnixNano: '1',
              endTimeUnixNano: '2',
              attributes: [{ key: 'record', value: { stringValue: record } }],
            })),
          },
        ],
      },
    ],
  };
  const config = redactionProcessorFactory.parseConfig(new Fields({ tier: 3 }, 'processors.redaction'));
  const p = redactionProcessorFactory.create(config, {
    id: 'redaction',
    dataDir: mkdtempSync(path.join(tmpdir(), 'redaction-')),
    configDir: '.',
    metrics: new MetricsRegistry(),
    recentOutput: async function* () {},
  });
  const bytes = Buffer.byteLength(text);
  const rounds = Math.ceil(40e6 / bytes);
  await p.processTraces(message); // warm-up: JIT and regex compilation
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await p.processTraces(message);
  const mbPerSecond = (bytes * rounds) / 1e6 / ((performance.now() - started) / 1000);
  console.log(`redaction throughput: ${mbPerSecond.toFixed(1)} MB/s (${rounds} × ${(bytes / 1e3).toFixed(0)} kB)`);
  expect(mbPerSecond).toBeGreaterThan(FLOOR_MB_S);
});
