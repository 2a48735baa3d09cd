/**
 * Where poison messages go: the dead-letter topic on Kafka (raw bytes, the error and the
 * source position in headers), or a JSON-lines file in the data directory in embedded mode
 * (`<data_dir>/deadletter/<day>.jsonl`).
 *
 * Embedded mode's part of `agentotel dlq replay` is here too: the tool cannot reach the
 * in-process bus of a running `agentotel up`, so it queues the letters to send again as files
 * under `<data_dir>/deadletter/replay/pending/`, which `up` publishes (startRedrive).
 */
import { appendFile, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { BusUnavailableError, type Bus, type Headers, type IncomingMessage, type Topic } from '../core/bus/bus.ts';
import { DEAD_LETTER_HEADERS, deadLetterTopic } from '../core/bus/topics.ts';
import { log } from '../core/log.ts';

export interface DeadLetter {
  key: string;
  raw: Uint8Array;
  headers: Headers;
}

/** A dead letter for a consumed message: its bytes, why it failed, at which stage, from where. */
export function deadLetterFor(m: IncomingMessage<unknown>, stage: string, error: Error, raw: Uint8Array): DeadLetter {
  return {
    key: m.key,
    raw,
    headers: {
      ...m.headers,
      [DEAD_LETTER_HEADERS.error]: error.message.slice(0, 1_000),
      [DEAD_LETTER_HEADERS.stage]: stage,
      [DEAD_LETTER_HEADERS.sourceTopic]: m.topic,
      [DEAD_LETTER_HEADERS.sourcePartition]: String(m.partition),
      [DEAD_LETTER_HEADERS.sourceOffset]: m.offset,
    },
  };
}

export interface DeadLetterSink {
  send(letters: DeadLetter[]): Promise<void>;
}

export function busDeadLetters(bus: Bus, prefix: string): DeadLetterSink {
  const topic = deadLetterTopic(prefix);
  return {
    send: (letters) =>
      bus.publish(
        topic,
        letters.map((l) => ({ key: l.key, value: l.raw, headers: l.headers })),
      ),
  };
}

// ── embedded mode: files ─────────────────────────────────────────────────────

export const deadLetterDir = (dataDir: string) => path.join(dataDir, 'deadletter');
/** What `agentotel dlq replay` queued for the running `agentotel up` to publish. */
export const pendingReplayDir = (dataDir: string) => path.join(deadLetterDir(dataDir), 'replay', 'pending');

/** A line of a dead-letter file, and of a queued replay (which also names the letter and where it goes). */
export interface LetterLine {
  time: string;
  key: string;
  headers: Headers;
  value_base64: string;
}
export interface QueuedLetterLine extends LetterLine {
  /** The letter: `<file>:<line>` of its dead-letter file. */
  id: string;
  topic: string;
}

export function fileDeadLetters(dataDir: string): DeadLetterSink {
  const dir = deadLetterDir(dataDir);
  return {
    async send(letters) {
      if (letters.length === 0) return;
      await mkdir(dir, { recursive: true });
      const lines = letters.map((l) =>
        JSON.stringify({
          time: new Date().toISOString(),
          key: l.key,
          headers: l.headers,
          value_base64: Buffer.from(l.raw).toString('base64'),
        } satisfies LetterLine),
      );
      await appendFile(path.join(dir, `${new Date().toISOString().slice(0, 10)}.jsonl`), lines.join('\n') + '\n');
    },
  };
}

const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/** A line of a dead-letter file, or undefined when it is not one (a torn write, a hand edit). */
export function parseLetterLine(line: string): LetterLine | undefined {
  return letterOf(parseJson(line));
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function letterOf(v: unknown): LetterLine | undefined {
  const o = v as Partial<LetterLine> | undefined;
  if (typeof o !== 'object' || o === null) return undefined;
  if (typeof o.time !== 'string' || typeof o.key !== 'string' || typeof o.value_base64 !== 'string' || !isStringRecord(o.headers)) {
    return undefined;
  }
  return { time: o.time, key: o.key, headers: o.headers, value_base64: o.value_base64 };
}

function parseQueuedLine(line: string): QueuedLetterLine | undefined {
  const v = parseJson(line);
  const letter = letterOf(v);
  const o = v as Partial<QueuedLetterLine>;
  return letter && typeof o.id === 'string' && typeof o.topic === 'string' ? { ...letter, id: o.id, topic: o.topic } : undefined;
}

/** Sends a letter's bytes to its topic on the in-process bus, which carries values: decoded with the topic's codec. */
async function publishLetter<T>(bus: Bus, topic: Topic<T>, letter: QueuedLetterLine): Promise<void> {
  const value = topic.codec.decode(Buffer.from(letter.value_base64, 'base64'));
  await bus.publish(topic, [{ key: letter.key, value, headers: letter.headers }]);
}

export interface Redrive {
  stop(): Promise<void>;
}

/**
 * Publishes what `agentotel dlq replay` queued for this embedded process: each pending file in
 * name order, each letter to its topic, then removes the file (a crash in between sends its
 * letters again: the pipeline dedupes). A letter whose topic this config does not have, or
 * whose bytes do not decode, is logged and left out. Looks at start and every `intervalMs`.
 */
export function startRedrive(bus: Bus, topics: ReadonlyMap<string, Topic<unknown>>, dataDir: string, intervalMs = 1_000): Redrive {
  const dir = pendingReplayDir(dataDir);
  const drain = async () => {
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.jsonl') && !f.startsWith('.')).sort();
    for (const file of files) {
      const lines = (await readFile(path.join(dir, file), 'utf8')).split('\n').filter((l) => l.trim() !== '');
      let sent = 0;
      for (const line of lines) {
        const letter = parseQueuedLine(line);
        const topic = letter && topics.get(letter.topic);
        if (!letter || !topic) {
          log('warn', 'a queued dead letter names no topic of this config; left out', { file, topic: letter?.topic });
          continue;
        }
        try {
          await publishLetter(bus, topic, letter);
          sent++;
        } catch (err) {
          if (err instanceof BusUnavailableError) throw err;
          log('warn', 'a queued dead letter does not decode; left out', { file, letter: letter.id, error: (err as Error).message });
        }
      }
      await unlink(path.join(dir, file));
      log('info', `replayed ${sent} dead letters`, { file });
    }
  };
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = running.then(drain).catch((err: unknown) => {
      if (!stopped) log('warn', 'replaying queued dead letters failed; retrying', { error: (err as Error).message });
    });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
