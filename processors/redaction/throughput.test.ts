/**
 * Throughput of the processor on one core over the redaction corpus, as the bus delivers it
 * (bench/redaction.ts measures it with baselines). The target is 20 MB/s per core; the
 * assertion sits below it so that a machine busy with other work does not fail the build, and
 * the figure is printed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { corpusBytes, loadCorpus } from '../../test/redaction-corpus/measure.ts';
import { corpusMessages } from '../../test/redaction-corpus/messages.ts';
import { redactionProcessorFactory } from './index.ts';

const FLOOR_MB_S = 10;

it(`redacts the corpus at ≥ ${FLOOR_MB_S} MB/s of CPU on one core`, async () => {
  const corpus = loadCorpus();
  const messages = corpusMessages([...corpus.positives, ...corpus.negatives].map((s) => s.text));
  const config = redactionProcessorFactory.parseConfig(new Fields({ tier: 3 }, 'processors.redaction'));
  const p = redactionProcessorFactory.create(config, {
    id: 'redaction',
    dataDir: mkdtempSync(path.join(tmpdir(), 'redaction-')),
    configDir: '.',
    metrics: new MetricsRegistry(),
    recentOutput: async function* () {},
  });
  for (const m of messages) await p.processTraces(m); // warm-up: JIT and regex compilation
  const rounds = 3;
  const cpu = process.cpuUsage();
  for (let i = 0; i < rounds; i++) for (const m of messages) await p.processTraces(m);
  const used = process.cpuUsage(cpu);
  const mbPerSecond = (corpusBytes(corpus) * rounds) / 1e6 / ((used.user + used.system) / 1e6);
  console.log(`redaction throughput: ${mbPerSecond.toFixed(1)} MB/s per core (${rounds} × ${(corpusBytes(corpus) / 1e6).toFixed(2)} MB)`);
  expect(mbPerSecond).toBeGreaterThan(FLOOR_MB_S);
});
