/**
 * Throughput of the redaction processor over the redaction corpus (test/redaction-corpus:
 * synthetic secrets in tool output, real code, hashes, base64, lockfiles), as MB of text per
 * CPU second on one core, against baselines measured in the same run:
 *
 *   walk only     the same messages walked, every string read once (indexOf of a character
 *                 that never occurs: the least a scan of the text can cost)
 *   copy only     the same messages copied span by span as the processor copies them, no scan
 *   scanner       the secret scanner alone over the corpus texts
 *   processor     processTraces at tier 3 (every string scanned), the figure that counts
 *
 *   npx tsx bench/redaction.ts [--seconds 3] [--spans-per-message 20]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Fields } from '../core/config/fields.ts';
import { MetricsRegistry } from '../core/metrics.ts';
import type { AnyValue } from '../core/otlp/model.ts';
import { mapTraces } from '../core/otlp/traces.ts';
import { redactionProcessorFactory } from '../processors/redaction/index.ts';
import type { RedactionProcessor } from '../processors/redaction/processor.ts';
import { SecretScanner } from '../processors/redaction/scanner.ts';
import { corpusBytes, loadCorpus } from '../test/redaction-corpus/measure.ts';
import { corpusMessages } from '../test/redaction-corpus/messages.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, 'spans-per-message': { type: 'string', default: '20' } },
});
const SECONDS = Number(values.seconds);
const PER_MESSAGE = Number(values['spans-per-message']);

const corpus = loadCorpus();
const texts = [...corpus.positives, ...corpus.negatives].map((s) => s.text);
const bytes = corpusBytes(corpus);

const messages = corpusMessages(texts, PER_MESSAGE);
const spanCount = texts.length;

/** Runs `work` over the whole corpus repeatedly for about SECONDS; returns MB/s per CPU second and µs per span. */
function measure(name: string, work: () => void): number {
  work(); // warm-up: JIT, regex compilation
  const started = performance.now();
  const cpu = process.cpuUsage();
  let rounds = 0;
  do {
    work();
    rounds++;
  } while (performance.now() - started < SECONDS * 1000);
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const mbPerSecond = (bytes * rounds) / 1e6 / cpuSeconds;
  const usPerSpan = (cpuSeconds * 1e6) / (rounds * spanCount);
  console.log(
    `${name.padEnd(12)} ${mbPerSecond.toFixed(1).padStart(8)} MB/s per core   ${usPerSpan.toFixed(1).padStart(7)} µs/span   (${rounds} rounds)`,
  );
  return mbPerSecond;
}

function walkValue(v: AnyValue | undefined): number {
  if (!v) return 0;
  if (v.stringValue !== undefined) return v.stringValue.indexOf('\u0000');
  let n = 0;
  for (const x of v.arrayValue?.values ?? []) n += walkValue(x);
  for (const kv of v.kvlistValue?.values ?? []) n += walkValue(kv.value);
  return n;
}

const processor = redactionProcessorFactory.create(redactionProcessorFactory.parseConfig(new Fields({ tier: 3 }, 'processors.redaction')), {
  id: 'redaction',
  dataDir: mkdtempSync(path.join(tmpdir(), 'bench-redaction-')),
  configDir: '.',
  metrics: new MetricsRegistry(),
  recentOutput: async function* () {},
}) as RedactionProcessor;
const scanner = new SecretScanner({ patterns: [], allow: [], disabledDetectors: [] });

console.log(
  `redaction corpus: ${(bytes / 1e6).toFixed(2)} MB in ${texts.length} texts (${corpus.positives.length} with secrets), ${messages.length} messages of ${PER_MESSAGE} spans`,
);
let sink = 0;
const walked = measure('walk only', () => {
  for (const m of messages)
    for (const rs of m.resourceSpans!)
      for (const ss of rs.scopeSpans!) for (const s of ss.spans!) for (const kv of s.attributes!) sink += walkValue(kv.value);
});
measure('copy only', () => {
  for (const m of messages)
    sink += mapTraces(m, (s) => ({ ...s, attributes: s.attributes!.map((kv) => ({ ...kv })) })).resourceSpans!.length;
});
measure('scanner', () => {
  for (const t of texts) sink += scanner.redact(t, new Map(), new Map()).length;
});
const processed = measure('processor', () => {
  for (const m of messages) sink += processor.processTraces(m).resourceSpans!.length;
});
console.log(
  `processor: ${processed.toFixed(1)} MB/s per core (target ≥ 20), ${(walked / processed).toFixed(0)}× the cost of walking the same strings (checksum ${sink})`,
);
