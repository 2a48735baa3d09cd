/**
 * Replaying dead letters: which letters go back where (pure rules), the listing, and embedded
 * mode end to end on its files: letters written by the stage's sink, queued by the replay,
 * published by the running process's redrive onto the in-process bus, each once.
 */
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from '../core/bus/inprocess.ts';
import { signalTopic } from '../core/bus/topics.ts';
import { encodeProtobuf } from '../core/otlp/codec.ts';
import type { TracesData } from '../core/otlp/model.ts';
import { eachSpan } from '../core/otlp/traces.ts';
import { tempDir } from '../test/helpers/pipeline.ts';
import { waitFor } from '../test/helpers/wait.ts';
import {
  decideReplay,
  fileLetterStore,
  groupLetters,
  replayHeaders,
  selectLetters,
  summarize,
  type StoredLetter,
} from './deadletter-replay.ts';
import { deadLetterDir, fileDeadLetters, pendingReplayDir, startRedrive } from './deadletters.ts';

const RECEIVED = 'agentotel.traces.received';
const REDACTED = 'agentotel.traces.redaction';
const NOW = Date.parse('2026-11-22T12:00:00Z');

function letter(id: string, stage: string, error: string, minutesAgo: number, topic: string | null = RECEIVED): StoredLetter {
  const headers: Record<string, string> = { 'agentotel.stage': stage, 'agentotel.error': error, traceparent: '00-ab-cd-01' };
  if (topic) headers['agentotel.source.topic'] = topic;
  return { id, time: NOW - minutesAgo * 60_000, key: `key-${id}`, headers, value: Buffer.from(id) };
}

describe('deciding what to replay', () => {
  const letters = [
    letter('0:1', 'redaction', 'bad span', 90),
    letter('0:2', 'redaction+enrichment', 'bad span', 30, REDACTED),
    letter('0:3', 'enrichment', 'pricing table', 10, REDACTED),
    letter('1:1', 'enrichment', 'pricing table', 5, 'some.other.topic'),
    letter('1:2', 'clickhouse', 'undecodable', 1, null),
  ];
  const topics = new Set([RECEIVED, REDACTED]);

  it('sends each letter back to the input topic of its stage, skipping those replayed before, and says why it skips', () => {
    const decisions = decideReplay(letters, new Set(['0:3']), { now: NOW, topics });
    expect(decisions.map((d) => [d.letter.id, d.to])).toEqual([
      ['0:1', { topic: RECEIVED }],
      ['0:2', { topic: REDACTED }],
      ['0:3', { skip: 'already replayed' }],
      ['1:1', { skip: 'no input topic of this config' }],
      ['1:2', { skip: 'no input topic of this config' }],
    ]);
    expect(summarize(decisions)).toEqual({
      redaction: { replayed: 1, skipped: 0, skippedBecause: {} },
      'redaction+enrichment': { replayed: 1, skipped: 0, skippedBecause: {} },
      enrichment: { replayed: 0, skipped: 2, skippedBecause: { 'already replayed': 1, 'no input topic of this config': 1 } },
      clickhouse: { replayed: 0, skipped: 1, skippedBecause: { 'no input topic of this config': 1 } },
    });
  });

  it('--stage picks a stage, also run together with others; --since skips older letters; letters that do not decode are skipped', () => {
    const decisions = decideReplay(letters, new Set(), {
      stage: 'redaction',
      sinceMs: 60 * 60_000,
      now: NOW,
      topics,
      decodes: (_topic, value) => Buffer.from(value).toString() !== '0:2',
    });
    expect(decisions.map((d) => [d.letter.id, d.to])).toEqual([
      ['0:1', { skip: 'older than --since' }],
      ['0:2', { skip: 'does not decode' }],
    ]);
    expect(selectLetters(letters, { stage: 'enrichment', sinceMs: 20 * 60_000, now: NOW }).map((l) => l.id)).toEqual(['0:3', '1:1']);
  });

  it('counts a letter the bus would not take as skipped, with the reason', () => {
    const decisions = decideReplay(letters.slice(0, 1), new Set(), { now: NOW, topics });
    const send = { letter: letters[0]!, topic: RECEIVED };
    expect(summarize(decisions, [{ send, reason: 'over the bus message limit' }])).toEqual({
      redaction: { replayed: 0, skipped: 1, skippedBecause: { 'over the bus message limit': 1 } },
    });
  });

  it('sends a letter with its own headers and key, without the dead letter bookkeeping, saying where it came from', () => {
    expect(replayHeaders(letters[0]!, 'agentotel.deadletter/0:1')).toEqual({
      traceparent: '00-ab-cd-01',
      'agentotel.replayed.from': 'agentotel.deadletter/0:1',
    });
  });

  it('lists counts by stage and error, the newest group first, with how many were replayed', () => {
    expect(groupLetters(letters, new Set(['0:3']))).toEqual([
      { stage: 'clickhouse', error: 'undecodable', count: 1, replayed: 0, newest: new Date(NOW - 60_000).toISOString() },
      { stage: 'enrichment', error: 'pricing table', count: 2, replayed: 1, newest: new Date(NOW - 5 * 60_000).toISOString() },
      { stage: 'redaction+enrichment', error: 'bad span', count: 1, replayed: 0, newest: new Date(NOW - 30 * 60_000).toISOString() },
      { stage: 'redaction', error: 'bad span', count: 1, replayed: 0, newest: new Date(NOW - 90 * 60_000).toISOString() },
    ]);
  });
});

describe('embedded mode: dead-letter files', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  const traces = (name: string): TracesData => ({
    resourceSpans: [
      {
        scopeSpans: [{ spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name, startTimeUnixNano: '1', endTimeUnixNano: '2' }] }],
      },
    ],
  });

  it('the replay queues each letter once; the running process publishes it to its topic, decoded, with key and headers', async () => {
    const dir = tempDir('dlq-files');
    await fileDeadLetters(dir).send([
      {
        key: 'trace-1',
        raw: encodeProtobuf('traces', traces('refused')),
        headers: { 'agentotel.stage': 'gate', 'agentotel.error': 'refused', 'agentotel.source.topic': RECEIVED, session: 's1' },
      },
      { key: 'trace-2', raw: Buffer.from('not protobuf'), headers: { 'agentotel.stage': 'gate', 'agentotel.source.topic': RECEIVED } },
    ]);
    const [file] = readdirSync(deadLetterDir(dir));
    appendFileSync(path.join(deadLetterDir(dir), file!), '{"torn": \n');

    const store = fileLetterStore(dir);
    const { letters, unreadable } = await store.read();
    expect(letters.map((l) => l.id)).toEqual([`${file}:1`, `${file}:2`]);
    expect(unreadable).toBe(1);
    const topic = signalTopic(RECEIVED, 'traces');
    const decide = async () =>
      decideReplay(letters, await store.replayedIds(), {
        now: Date.now(),
        topics: new Set([RECEIVED]),
        decodes: (_t, value) => {
          try {
            topic.codec.decode(value);
            return true;
          } catch {
            return false;
          }
        },
      });
    const first = await decide();
    expect(first.map((d) => d.to)).toEqual([{ topic: RECEIVED }, { skip: 'does not decode' }]);
    expect(await store.replay([{ letter: letters[0]!, topic: RECEIVED }])).toEqual([]);
    expect((await decide()).map((d) => d.to)).toEqual([{ skip: 'already replayed' }, { skip: 'does not decode' }]);

    // The running agentotel up publishes what was queued.
    const bus = new InProcessBus();
    stops.push(() => bus.close());
    const got: { key: string; headers: Record<string, string>; names: string[] }[] = [];
    const sub = await bus.subscribe(topic, { group: 'stage' }, async (batch) => {
      for (const m of batch) if (m.ok) got.push({ key: m.key, headers: m.headers, names: [...eachSpan(m.value)].map((c) => c.span.name) });
    });
    stops.push(() => sub.stop());
    const redrive = startRedrive(bus, new Map([[RECEIVED, topic]]), dir, 50);
    stops.push(() => redrive.stop());
    await waitFor(
      async () => got.length,
      (n) => n === 1,
      5_000,
      'the queued letter published',
    );
    expect(got).toEqual([
      { key: 'trace-1', headers: { session: 's1', 'agentotel.replayed.from': `deadletter/${file}:1` }, names: ['refused'] },
    ]);
    await waitFor(
      async () => readdirSync(pendingReplayDir(dir)).length,
      (n) => n === 0,
      5_000,
      'the queue file removed',
    );
    expect(existsSync(path.join(deadLetterDir(dir), 'replay', 'replayed.jsonl'))).toBe(true);
  });
});
