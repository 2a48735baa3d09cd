/**
 * Where poison messages go: the dead-letter topic on Kafka (raw bytes, the error and the
 * source position in headers), or a JSON-lines file in the data directory in embedded mode.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Bus, Headers, IncomingMessage } from '../core/bus/bus.ts';
import { DEAD_LETTER_HEADERS, deadLetterTopic } from '../core/bus/topics.ts';

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

export function fileDeadLetters(dataDir: string): DeadLetterSink {
  const dir = path.join(dataDir, 'deadletter');
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
        }),
      );
      await appendFile(path.join(dir, `${new Date().toISOString().slice(0, 10)}.jsonl`), lines.join('\n') + '\n');
    },
  };
}
