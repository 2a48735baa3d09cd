import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, Fields } from '../../core/config/fields.ts';
import type { PublishedMessage } from '../../core/component.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { Span, TracesData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { dedupeProcessorFactory, SeenSpans } from './index.ts';

const T1 = '0af7651916cd43dd8448eb211c80319c';
const T2 = '1bf7651916cd43dd8448eb211c80319d';
const parseAt = (raw: unknown) => dedupeProcessorFactory.parseConfig(new Fields(raw, 'processors.dedupe'));
const testdata = (name: string) => parse(readFileSync(new URL(`testdata/${name}`, import.meta.url), 'utf8')) as unknown;

const span = (traceId: string, n: number): Span => ({
  traceId,
  spanId: n.toString(16).padStart(16, '0'),
  name: `s${n}`,
  startTimeUnixNano: '1',
  endTimeUnixNano: '2',
});
const message = (...spans: Span[]): TracesData => ({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });
const ids = (data: TracesData) => [...eachSpan(data)].map((c) => `${c.span.traceId.slice(0, 2)}/${parseInt(c.span.spanId, 16)}`);

/** A dedupe processor whose output topic held `published` (on partition 0, or as given) before it started. */
function processor(raw: Record<string, unknown> = {}, published: (TracesData | PublishedMessage)[] = [], metrics = new MetricsRegistry()) {
  const messages = published.map((m) => ('value' in m ? m : { partition: 0, value: m }));
  return dedupeProcessorFactory.create(parseAt(raw), {
    id: 'dedupe',
    dataDir: '/nonexistent',
    configDir: '.',
    metrics,
    recentOutput: async function* (options) {
      yield* messages.filter((m) => !options?.partitions || options.partitions.includes(m.partition));
    },
  });
}
const from = (partition: number, offset = 0) => ({ partition, offset: String(offset) });

describe('dedupe config', () => {
  it('parses testdata/valid.yaml', () => {
    expect(parseAt(testdata('valid.yaml'))).toEqual({ windowMs: 30 * 60_000, maxEntries: 50_000, mergeWindowMs: 5_000 });
  });
  it('rejects testdata/invalid.yaml naming the key', () => {
    expect(() => parseAt(testdata('invalid.yaml'))).toThrow(
      new ConfigError('processors.dedupe.window', 'must be a duration such as 500ms, 5s, 1h (got "1 hour")'),
    );
  });
  it('fills the defaults', () => expect(parseAt(undefined)).toEqual({ windowMs: 3_600_000, maxEntries: 1_000_000, mergeWindowMs: 10_000 }));
  it.each([
    [{ window: '0s' }, 'processors.dedupe.window: must be longer than 0'],
    [{ max_entries: 0 }, 'processors.dedupe.max_entries: must be at least 1 (got 0)'],
    [{ max_entries: 1.5 }, 'processors.dedupe.max_entries: must be a whole number'],
    [{ max_entrys: 5 }, 'processors.dedupe.max_entrys: unknown key'],
    [{ merge_window: '0s' }, 'processors.dedupe.merge_window: must be longer than 0'],
    [{ window: '1m', merge_window: '2m' }, 'processors.dedupe.merge_window: must be shorter than window'],
  ])('rejects %j', (raw, msg) => expect(() => parseAt(raw)).toThrow(msg));
});

describe('dedupe processor', () => {
  it('drops the same span twice in one message', async () => {
    const out = await processor().processTraces(message(span(T1, 1), span(T1, 2), span(T1, 1)));
    expect(ids(out)).toEqual(['0a/1', '0a/2']);
  });

  it('keeps spans of several traces in one message apart, interleaved', async () => {
    const p = processor();
    expect(ids(await p.processTraces(message(span(T1, 1), span(T2, 1), span(T1, 1), span(T2, 2), span(T2, 1))))).toEqual([
      '0a/1',
      '1b/1',
      '1b/2',
    ]);
    p.commit!();
    expect(ids(await p.processTraces(message(span(T2, 2), span(T1, 2), span(T1, 1), span(T2, 3))))).toEqual(['0a/2', '1b/3']);
  });

  it('drops spans seen in an earlier message, and empties a message of duplicates only', async () => {
    const metrics = new MetricsRegistry();
    const p = processor({}, [], metrics);
    expect(ids(await p.processTraces(message(span(T1, 1), span(T1, 2))))).toEqual(['0a/1', '0a/2']);
    p.commit!();
    expect(ids(await p.processTraces(message(span(T1, 2), span(T1, 3), span(T2, 2))))).toEqual(['0a/3', '1b/2']);
    // Within one batch, before its commit, a repeat is dropped too.
    const empty = await p.processTraces(message(span(T1, 1), span(T1, 3)));
    expect(empty).toEqual({ resourceSpans: [] });
    p.commit!();
    expect(metrics.render()).toContain('agentotel_dedupe_dropped_spans_total{processor="dedupe"} 3');
    expect(metrics.render()).toContain('agentotel_dedupe_remembered_spans{processor="dedupe"} 4');
  });

  it('after a restart, rebuilds its state from what it published and lets no duplicate through', async () => {
    const before = processor();
    const published = [await before.processTraces(message(span(T1, 1), span(T1, 2)))];
    const restarted = processor({}, published);
    await restarted.assign!([0]);
    expect(ids(await restarted.processTraces(message(span(T1, 1), span(T1, 2), span(T1, 3))))).toEqual(['0a/3']);
    // Without the replay the same message would pass: the test above depends on assign().
    expect(ids(await processor().processTraces(message(span(T1, 1), span(T1, 2))))).toEqual(['0a/1', '0a/2']);
  });

  it('rebuilds the state of the partitions it is assigned only, and forgets the traces of partitions it no longer has', async () => {
    const metrics = new MetricsRegistry();
    const published = [
      { partition: 0, value: message(span(T1, 1)) },
      { partition: 1, value: message(span(T2, 1)) },
    ];
    const p = processor({}, published, metrics);
    await p.assign!([0]);
    expect(ids(await p.processTraces(message(span(T1, 1), span(T1, 2)), from(0)))).toEqual(['0a/2']);
    // Partition 1 was not read: its trace is not known (and would be read when it is assigned).
    expect(ids(await p.processTraces(message(span(T2, 1)), from(1)))).toEqual(['1b/1']);
    p.commit!();
    expect(metrics.render()).toContain('agentotel_dedupe_remembered_spans{processor="dedupe"} 3');
    // A rebalance leaves it partition 0: T2 is another worker's now.
    await p.assign!([0]);
    expect(metrics.render()).toContain('agentotel_dedupe_remembered_spans{processor="dedupe"} 2');
    expect(ids(await p.processTraces(message(span(T1, 2)), from(0)))).toEqual([]);
  });

  it('lets an aborted batch through again when it is redelivered, as a new or the same object', async () => {
    const p = processor();
    const input = message(span(T1, 1), span(T1, 2));
    expect(ids(await p.processTraces(input))).toEqual(['0a/1', '0a/2']);
    p.abort!(); // publishing the output failed
    expect(ids(await p.processTraces(input))).toEqual(['0a/1', '0a/2']);
    p.abort!(); // and again, after a rebalance, as new objects
    expect(ids(await p.processTraces(message(span(T1, 1), span(T1, 2))))).toEqual(['0a/1', '0a/2']);
    p.commit!();
    expect(ids(await p.processTraces(message(span(T1, 1))))).toEqual([]);
  });

  it.each([
    [
      { ...span(T1, 1), spanId: '' },
      'span "s1" has an invalid identity (traceId "0af7651916cd43dd8448eb211c80319c", spanId ""): expected 32 and 16 lowercase hex digits, not all zero',
    ],
    [{ ...span(T1, 1), traceId: '0'.repeat(32) }, 'span "s1" has an invalid identity (traceId "00000000000000000000000000000000"'],
    [{ ...span(T1, 1), spanId: 'XYZ' }, 'spanId "XYZ"'],
  ])('rejects a span it cannot identify: %j', async (bad, msg) => {
    const p = processor();
    expect(() => p.processTraces(message(span(T1, 7), bad))).toThrow(msg);
    // Nothing of the rejected message was remembered.
    expect(ids(await p.processTraces(message(span(T1, 7))))).toEqual(['0a/7']);
  });
});

describe('seen spans', () => {
  const ids = (spans: ReadonlyMap<string, unknown> | undefined) => [...spans!.keys()];
  const entries = (...spanIds: string[]) => spanIds.map((id) => [id, null] as const);
  it('forgets traces not seen for the window', () => {
    let now = 0;
    const seen = new SeenSpans<null>(1_000, 100, () => now);
    expect(seen.add(T1, 'a', null)).toBe(true);
    now = 600;
    expect(seen.add(T2, 'a', null)).toBe(true);
    now = 1_100; // T1 last seen at 0: forgotten; T2 at 600: kept
    expect(seen.add(T2, 'a', null)).toBe(false);
    expect(seen.add(T1, 'a', null)).toBe(true);
    expect(seen.size).toBe(2);
  });

  it('seeing a trace again keeps it for another window', () => {
    let now = 0;
    const seen = new SeenSpans<null>(1_000, 100, () => now);
    seen.add(T1, 'a', null);
    now = 900;
    seen.add(T1, 'b', null);
    now = 1_500;
    expect(seen.add(T1, 'a', null)).toBe(false);
  });

  it('holds at most max_entries identities, evicting the least recently seen trace first', () => {
    const seen = new SeenSpans<null>(3_600_000, 3);
    seen.add(T1, 'a', null);
    seen.add(T1, 'b', null);
    seen.add(T2, 'a', null);
    seen.add(T1, 'c', null); // 4 > 3: T2 is now the least recently seen
    expect(seen.size).toBe(3);
    expect(seen.add(T1, 'a', null)).toBe(false);
    expect(seen.add(T2, 'a', null)).toBe(true); // forgotten; adding it evicts T1 (3 spans)
    expect(seen.size).toBe(1);
  });

  it('trims the oldest spans of a single trace larger than the limit', () => {
    const seen = new SeenSpans<null>(3_600_000, 2);
    for (const id of ['a', 'b', 'c']) seen.add(T1, id, null);
    expect(seen.size).toBe(2);
    expect(seen.add(T1, 'c', null)).toBe(false);
    expect(seen.add(T1, 'a', null)).toBe(true);
  });

  it('adds the spans of a trace at once, counting the new ones, and evicts as if one by one', () => {
    let now = 0;
    const seen = new SeenSpans<null>(1_000, 4, () => now);
    seen.add(T2, 'a', null);
    now = 10;
    expect(seen.addAll(T1, entries('a', 'b', 'a', 'c'))).toBe(3);
    expect(seen.addAll(T1, entries('c', 'd'))).toBe(1); // 5 > 4: T2, least recently seen, goes
    expect(seen.size).toBe(4);
    expect(seen.spansOf(T2)).toBeUndefined();
    expect(ids(seen.spansOf(T1))).toEqual(['a', 'b', 'c', 'd']);
    expect(seen.addAll(T1, entries('e', 'f'))).toBe(2); // one trace over the limit: its oldest spans go
    expect(ids(seen.spansOf(T1))).toEqual(['c', 'd', 'e', 'f']);
    now = 1_011; // T1 last seen at 10
    expect(seen.spansOf(T1)).toBeUndefined();
  });

  it('forgets the traces of the partitions not kept; traces of no known partition stay', () => {
    const seen = new SeenSpans<null>(3_600_000, 100);
    seen.addAll(T1, entries('a', 'b'), 0);
    seen.add(T2, 'a', null, 1);
    seen.add('2c'.repeat(16), 'a', null);
    seen.add(T1, 'c', null); // no partition given: T1 stays on 0
    expect(seen.keepPartitions(new Set([1]))).toBe(3);
    expect(seen.size).toBe(2);
    expect(seen.spansOf(T1)).toBeUndefined();
    expect(ids(seen.spansOf(T2))).toEqual(['a']);
  });

  it('stays bounded under a stream of traces', () => {
    const seen = new SeenSpans<null>(3_600_000, 1_000);
    for (let t = 0; t < 5_000; t++) for (let s = 0; s < 3; s++) seen.add(t.toString(16).padStart(32, '0'), String(s), null);
    expect(seen.size).toBeLessThanOrEqual(1_000);
  });
});
