/**
 * Detection quality of the redaction processor's scanner over the corpus: recall on the planted
 * secrets (every detector, several formats, plain and JSON-escaped) and the false-positive rate
 * on the negatives (real code and documentation, hashes, UUIDs, base64, lockfiles, look-alikes).
 */
import { describe, expect, it } from 'vitest';
import { SecretScanner } from '../../processors/redaction/scanner.ts';
import { BUILTIN_PASSES } from '../../processors/redaction/detectors.ts';
import { corpusBytes, loadCorpus, measure, report } from './measure.ts';

describe('redaction corpus', () => {
  const corpus = loadCorpus();
  const scanner = new SecretScanner({ patterns: [], allow: [], disabledDetectors: [] });
  const figures = measure(corpus, (text) => scanner.redact(text, new Map(), new Map()));
  console.log(report(figures, corpusBytes(corpus)));

  it('is large enough to measure 0.1%', () => {
    expect(figures.planted).toBeGreaterThan(5_000);
    expect(figures.negatives).toBeGreaterThan(3_000);
  });

  it('plants secrets of every kind the detectors report, each in several formats', () => {
    const formats = new Map<string, Set<string>>();
    for (const s of corpus.positives) for (const p of s.planted) formats.set(p.kind, (formats.get(p.kind) ?? new Set()).add(s.template));
    const kinds = new Set(BUILTIN_PASSES.flatMap((pass) => pass.detectors.flatMap((d) => d.kinds)));
    expect([...kinds].filter((k) => !formats.has(k))).toEqual([]);
    // Each in two tool outputs at least, plain and as JSON strings.
    for (const [kind, f] of formats) expect(f.size, kind).toBeGreaterThanOrEqual(5);
  });

  it('finds ≥ 99% of the planted secrets', () => {
    expect(figures.missed).toEqual([]);
    expect(figures.recall).toBeGreaterThanOrEqual(0.99);
  });

  it('redacts ≤ 0.1% of the negatives', () => {
    expect(figures.falsePositiveRate).toBeLessThanOrEqual(0.001);
  });
});
