/**
 * Recall and false-positive rate of a redaction function over the corpus. A planted secret
 * counts as found when none of its needles survives; a negative sample is a false positive
 * when anything in it was redacted.
 */
import { generatedNegatives, fileNegatives, type NegativeSample } from './negatives.ts';
import { positiveSamples, type PositiveSample } from './positives.ts';

export type Redact = (text: string) => string;

export interface Corpus {
  positives: PositiveSample[];
  negatives: NegativeSample[];
}

export function loadCorpus(): Corpus {
  return { positives: positiveSamples(), negatives: [...generatedNegatives(), ...fileNegatives()] };
}

export const corpusBytes = (c: Corpus): number => [...c.positives, ...c.negatives].reduce((n, s) => n + Buffer.byteLength(s.text), 0);

export interface Figures {
  planted: number;
  found: number;
  recall: number;
  /** kind -> [found, planted] */
  byKind: Map<string, [number, number]>;
  /** Where a planted secret survived: template and kind (never the value). */
  missed: { template: string; kind: string }[];
  negatives: number;
  falsePositives: NegativeSample[];
  falsePositiveRate: number;
}

export function measure(corpus: Corpus, redact: Redact): Figures {
  const byKind = new Map<string, [number, number]>();
  const missed: Figures['missed'] = [];
  let planted = 0;
  let found = 0;
  for (const sample of corpus.positives) {
    const out = redact(sample.text);
    for (const p of sample.planted) {
      const ok = p.needles.every((n) => !out.includes(n));
      const k = byKind.get(p.kind) ?? [0, 0];
      byKind.set(p.kind, [k[0] + (ok ? 1 : 0), k[1] + 1]);
      planted++;
      if (ok) found++;
      else missed.push({ template: sample.template, kind: p.kind });
    }
  }
  const falsePositives = corpus.negatives.filter((s) => redact(s.text) !== s.text);
  return {
    planted,
    found,
    recall: found / planted,
    byKind,
    missed,
    negatives: corpus.negatives.length,
    falsePositives,
    falsePositiveRate: falsePositives.length / corpus.negatives.length,
  };
}

export function report(f: Figures, bytes: number): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const kinds = [...f.byKind]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, [ok, n]]) => `${kind} ${ok}/${n}`)
    .join(', ');
  return [
    `redaction corpus: ${(bytes / 1e6).toFixed(2)} MB`,
    `recall ${pct(f.recall)} (${f.found}/${f.planted} planted secrets found)`,
    `  by kind: ${kinds}`,
    `false positives ${pct(f.falsePositiveRate)} (${f.falsePositives.length}/${f.negatives} negative samples redacted)`,
  ].join('\n');
}
