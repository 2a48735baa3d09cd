/**
 * `agentotel dlq`: reading the dead letters — the Kafka topic, or embedded mode's files — and
 * sending them back, once the stage that refused them is fixed, to that stage's input topic
 * (the letter's `agentotel.source.topic`), key and headers kept. Each letter is sent once: a
 * replayed letter is marked (Kafka: a record keyed by its `partition:offset` in
 * `<dead-letter topic>.replayed`; files: its id in `deadletter/replay/replayed.jsonl`), and
 * a marked letter is skipped by the next replay. Payloads are never shown: they may hold secrets.
 */
import { appendFile, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MessageTooLargeError, type Headers, type Topic } from '../core/bus/bus.ts';
import type { KafkaBus } from '../core/bus/kafka.ts';
import { DEAD_LETTER_HEADERS, rawCodec, REPLAYED_FROM_HEADER, replayedLettersTopic } from '../core/bus/topics.ts';
import type { Signal, SignalData } from '../core/otlp/model.ts';
import type { ServiceConfig } from './config.ts';
import { deadLetterDir, parseLetterLine, pendingReplayDir, type QueuedLetterLine } from './deadletters.ts';
import { processorStage, receivedTopic } from './topology.ts';

export interface StoredLetter {
  /** Kafka: `<partition>:<offset>` in the dead-letter topic; files: `<file>:<line>`. */
  id: string;
  /** When it was dead-lettered (ms since the epoch). */
  time: number;
  key: string;
  headers: Headers;
  value: Uint8Array;
}

/** A letter to send again, and the topic it goes to. */
export interface Send {
  letter: StoredLetter;
  topic: string;
}

export interface LetterStore {
  /** Where the letters are, for people. */
  readonly where: string;
  /** Embedded mode: replaying queues the letters for the running agentotel up, which publishes them decoded. */
  readonly embedded: boolean;
  /** The letters, oldest first, and how many entries could not be read as letters. */
  read(): Promise<{ letters: StoredLetter[]; unreadable: number }>;
  replayedIds(): Promise<Set<string>>;
  /** Sends the letters to their topics and marks them replayed; returns those that cannot be sent, and why. */
  replay(sends: Send[]): Promise<{ send: Send; reason: string }[]>;
  close(): Promise<void>;
}

/** Every topic of the configured pipelines, with its encoding: where a dead letter can go back to. */
export function pipelineTopics(config: ServiceConfig): Map<string, Topic<SignalData[Signal]>> {
  const topics = new Map<string, Topic<SignalData[Signal]>>();
  for (const p of config.pipelines) {
    const received = receivedTopic(config.bus.topicPrefix, p);
    topics.set(received.name, received);
    p.processors.forEach((_, i) => {
      const { output } = processorStage(config.bus.topicPrefix, p, i);
      topics.set(output.name, output);
    });
  }
  return topics;
}

export const stageOf = (letter: StoredLetter): string => letter.headers[DEAD_LETTER_HEADERS.stage] ?? 'unknown';

/** A stage name is a processor id, an exporter id, or consecutive processor ids run together ("redaction+enrichment"). */
const isOfStage = (stage: string, wanted: string | undefined) => !wanted || stage === wanted || stage.split('+').includes(wanted);

/** The headers a letter is sent again with: its message's own, without the dead letter's, and where it came from. */
export function replayHeaders(letter: StoredLetter, from: string): Headers {
  const deadLetterKeys = new Set<string>(Object.values(DEAD_LETTER_HEADERS));
  const headers: Headers = {};
  for (const [k, v] of Object.entries(letter.headers)) if (!deadLetterKeys.has(k)) headers[k] = v;
  headers[REPLAYED_FROM_HEADER] = from;
  return headers;
}

// ── deciding ─────────────────────────────────────────────────────────────────

export interface Decision {
  letter: StoredLetter;
  stage: string;
  /** Where it goes, or why it does not. */
  to: { topic: string } | { skip: string };
}

export interface ReplayFilter {
  stage?: string;
  sinceMs?: number;
  now: number;
  /** The topics a letter may go back to. */
  topics: ReadonlySet<string>;
  /** Whether the bytes are a message of the topic (embedded mode decodes what it publishes). */
  decodes?(topic: string, value: Uint8Array): boolean;
}

/** The letters of a stage (all when none is named) dead-lettered in the last `sinceMs` (all when not given). */
export function selectLetters(
  letters: StoredLetter[],
  { stage, sinceMs, now }: { stage?: string; sinceMs?: number; now: number },
): StoredLetter[] {
  return letters.filter((l) => isOfStage(stageOf(l), stage) && (sinceMs === undefined || l.time >= now - sinceMs));
}

/** What to do with each letter of the stage asked for (all stages when none is). */
export function decideReplay(letters: StoredLetter[], replayed: ReadonlySet<string>, filter: ReplayFilter): Decision[] {
  const decisions: Decision[] = [];
  for (const letter of letters) {
    const stage = stageOf(letter);
    if (!isOfStage(stage, filter.stage)) continue;
    const topic = letter.headers[DEAD_LETTER_HEADERS.sourceTopic];
    let skip: string | undefined;
    if (replayed.has(letter.id)) skip = 'already replayed';
    else if (filter.sinceMs !== undefined && letter.time < filter.now - filter.sinceMs) skip = 'older than --since';
    else if (!topic || !filter.topics.has(topic)) skip = 'no input topic of this config';
    else if (filter.decodes && !filter.decodes(topic, letter.value)) skip = 'does not decode';
    decisions.push({ letter, stage, to: skip ? { skip } : { topic: topic! } });
  }
  return decisions;
}

export interface StageSummary {
  replayed: number;
  skipped: number;
  skippedBecause: Record<string, number>;
}

/** Per stage: how many letters were (or would be) sent again, how many skipped and why. */
export function summarize(decisions: Decision[], failed: { send: Send; reason: string }[] = []): Record<string, StageSummary> {
  const failedReason = new Map(failed.map((f) => [f.send.letter.id, f.reason]));
  const stages: Record<string, StageSummary> = {};
  for (const { letter, stage, to } of decisions) {
    const s = (stages[stage] ??= { replayed: 0, skipped: 0, skippedBecause: {} });
    const skip = 'skip' in to ? to.skip : failedReason.get(letter.id);
    if (skip === undefined) {
      s.replayed++;
    } else {
      s.skipped++;
      s.skippedBecause[skip] = (s.skippedBecause[skip] ?? 0) + 1;
    }
  }
  return stages;
}

export interface LetterGroup {
  stage: string;
  error: string;
  count: number;
  replayed: number;
  /** The newest letter's time (ISO 8601). */
  newest: string;
}

/** Letters counted by stage and error, the group with the newest letter first. */
export function groupLetters(letters: StoredLetter[], replayed: ReadonlySet<string>): LetterGroup[] {
  const groups = new Map<string, LetterGroup & { newestMs: number }>();
  for (const letter of letters) {
    const stage = stageOf(letter);
    const error = letter.headers[DEAD_LETTER_HEADERS.error] ?? '';
    const key = JSON.stringify([stage, error]);
    const g = groups.get(key) ?? { stage, error, count: 0, replayed: 0, newest: '', newestMs: -Infinity };
    g.count++;
    if (replayed.has(letter.id)) g.replayed++;
    if (letter.time > g.newestMs) g.newestMs = letter.time;
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => b.newestMs - a.newestMs)
    .map(({ newestMs, ...g }) => ({ ...g, newest: new Date(newestMs).toISOString() }));
}

// ── Kafka ────────────────────────────────────────────────────────────────────

export function kafkaLetterStore(bus: KafkaBus, topic: string): LetterStore {
  const markers = replayedLettersTopic(topic);
  return {
    where: `Kafka topic ${topic}`,
    embedded: false,
    async read() {
      if (!(await bus.hasTopic(topic)))
        throw new Error(`there is no topic ${topic} (no stage ran with this topic prefix, or --topic is misspelt)`);
      const records = await bus.read(topic);
      const letters = records.map((r) => ({
        id: `${r.partition}:${r.offset}`,
        time: r.timestamp,
        key: r.key,
        headers: r.headers,
        value: r.value,
      }));
      return { letters, unreadable: 0 };
    },
    async replayedIds() {
      if (!(await bus.hasTopic(markers.name))) return new Set();
      return new Set((await bus.read(markers.name)).map((r) => r.key));
    },
    async replay(sends) {
      if (sends.length === 0) return [];
      await bus.ensureTopics([markers.name]);
      const failed: { send: Send; reason: string }[] = [];
      // Marked as soon as sent: a failure later sends only what was not sent yet again.
      const sendAndMark = async (to: string, batch: Send[]) => {
        await bus.publish(
          { name: to, codec: rawCodec },
          batch.map(({ letter }) => ({ key: letter.key, value: letter.value, headers: replayHeaders(letter, `${topic}/${letter.id}`) })),
        );
        const at = new Date().toISOString();
        await bus.publish(
          markers,
          batch.map(({ letter }) => ({ key: letter.id, value: Buffer.from(JSON.stringify({ stage: stageOf(letter), topic: to, at })) })),
        );
      };
      for (const [to, list] of groupBy(sends, (s) => s.topic)) {
        let pending = list;
        // The bus checks every message before it sends any: one over its limit is left out, and the rest sent.
        while (pending.length > 0) {
          try {
            await sendAndMark(to, pending);
            pending = [];
          } catch (err) {
            if (!(err instanceof MessageTooLargeError)) throw err;
            failed.push({ send: pending[err.index]!, reason: 'over the bus message limit' });
            pending = pending.filter((_, i) => i !== err.index);
          }
        }
      }
      return failed;
    },
    close: () => bus.close(),
  };
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

// ── embedded mode: files ─────────────────────────────────────────────────────

/**
 * The dead-letter files of `<data_dir>/deadletter/`. Replaying queues the letters for the
 * running `agentotel up` (deadletters.ts startRedrive), which owns the in-process bus.
 */
export function fileLetterStore(dataDir: string): LetterStore {
  const dir = deadLetterDir(dataDir);
  const markerFile = path.join(dir, 'replay', 'replayed.jsonl');
  return {
    where: `files in ${dir}`,
    embedded: true,
    async read() {
      const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.jsonl')).sort();
      const letters: StoredLetter[] = [];
      let unreadable = 0;
      for (const file of files) {
        const lines = (await readFile(path.join(dir, file), 'utf8')).split('\n');
        lines.forEach((line, i) => {
          if (line.trim() === '') return;
          const l = parseLetterLine(line);
          const time = l ? Date.parse(l.time) : NaN;
          if (!l || Number.isNaN(time)) {
            unreadable++;
            return;
          }
          letters.push({ id: `${file}:${i + 1}`, time, key: l.key, headers: l.headers, value: Buffer.from(l.value_base64, 'base64') });
        });
      }
      return { letters, unreadable };
    },
    async replayedIds() {
      const text = await readFile(markerFile, 'utf8').catch(() => '');
      const ids = new Set<string>();
      for (const line of text.split('\n')) {
        try {
          const id = (JSON.parse(line) as { id?: unknown }).id;
          if (typeof id === 'string') ids.add(id);
        } catch {
          // a torn last line: its letter was not marked
        }
      }
      return ids;
    },
    async replay(sends) {
      if (sends.length === 0) return [];
      const pending = pendingReplayDir(dataDir);
      await mkdir(pending, { recursive: true });
      const at = new Date().toISOString();
      const queued = sends.map(({ letter, topic }) =>
        JSON.stringify({
          id: letter.id,
          topic,
          time: at,
          key: letter.key,
          headers: replayHeaders(letter, `deadletter/${letter.id}`),
          value_base64: Buffer.from(letter.value).toString('base64'),
        } satisfies QueuedLetterLine),
      );
      // Written aside, then renamed: the running agentotel up never reads half a file.
      const name = `${at.replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
      await appendFile(path.join(pending, `.${name}.tmp`), queued.join('\n') + '\n');
      await rename(path.join(pending, `.${name}.tmp`), path.join(pending, `${name}.jsonl`));
      await appendFile(
        markerFile,
        sends.map(({ letter, topic }) => JSON.stringify({ id: letter.id, stage: stageOf(letter), topic, at })).join('\n') + '\n',
      );
      return [];
    },
    close: async () => undefined,
  };
}
