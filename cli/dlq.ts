/**
 * `agentotel dlq list|replay`: the dead letters (messages a stage could not handle) and
 * sending them back once the stage is fixed. The letters and the rules are in
 * service/deadletter-replay.ts; this reads the flags and prints.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KafkaBus } from '../core/bus/kafka.ts';
import { deadLetterTopic } from '../core/bus/topics.ts';
import { ConfigError, Fields } from '../core/config/fields.ts';
import { setLogLevel } from '../core/log.ts';
import {
  decideReplay,
  fileLetterStore,
  groupLetters,
  kafkaLetterStore,
  pipelineTopics,
  selectLetters,
  summarize,
  type LetterStore,
  type Send,
  type StageSummary,
} from '../service/deadletter-replay.ts';
import { deadLetterDir } from '../service/deadletters.ts';
import { loadServiceConfig } from '../service/service.ts';
import type { ServiceConfig } from '../service/config.ts';

export const DLQ_USAGE = `usage: agentotel dlq <list|replay> [options]

Dead letters are the messages a stage could not handle, with the reason: on Kafka the topic
<bus.topic_prefix>deadletter, in embedded mode (agentotel up) the files <data_dir>/deadletter/.

  list      counts by stage and error, newest first (never the payloads: they may hold secrets)
  replay    after a fix, sends each dead letter not replayed before back to the input topic of
            the stage that refused it, key and headers kept, and marks it: a second replay does
            not send it again. In embedded mode the letters are queued for the running
            agentotel up (or its next start), which publishes them within a second.

options:
  --topic <name>        the dead-letter topic (default: <bus.topic_prefix>deadletter); means Kafka
  --stage <stage>       only the letters of this stage (a processor or exporter id)
  --since <duration>    only the letters of the last <duration> (30m, 6h, 7d)
  --dry-run             replay: say what would be sent, send nothing
  --kafka, --embedded   where the letters are (default: the data directory's dead-letter files
                        when there are any, else Kafka)
  --json                print JSON
  -c, --config <file>   config (default: the bundled config/agentotel.yaml)
  -h, --help`;

const DEFAULT_CONFIG = fileURLToPath(new URL('../config/agentotel.yaml', import.meta.url));

class UsageError extends Error {}

interface Flags {
  topic?: string;
  stage?: string;
  sinceMs?: number;
  dryRun: boolean;
  json: boolean;
  mode?: 'kafka' | 'embedded';
  config: string;
}

function parseFlags(argv: string[]): { command: string | undefined; flags: Flags; help: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      topic: { type: 'string' },
      stage: { type: 'string' },
      since: { type: 'string' },
      'dry-run': { type: 'boolean' },
      kafka: { type: 'boolean' },
      embedded: { type: 'boolean' },
      json: { type: 'boolean' },
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 1) throw new UsageError(`dlq takes one command (list or replay), got ${positionals.join(' ')}`);
  if (values.kafka && values.embedded) throw new UsageError('--kafka and --embedded exclude each other');
  if (values.embedded && values.topic) throw new UsageError('--topic names a Kafka topic; not with --embedded');
  let sinceMs: number | undefined;
  if (values.since !== undefined) {
    try {
      sinceMs = new Fields({ '--since': values.since }, '').duration('--since', 0);
    } catch (err) {
      throw new UsageError((err as ConfigError).message);
    }
  }
  return {
    command: positionals[0],
    help: values.help ?? false,
    flags: {
      topic: values.topic,
      stage: values.stage,
      sinceMs,
      dryRun: values['dry-run'] ?? false,
      json: values.json ?? false,
      mode: values.kafka || values.topic ? 'kafka' : values.embedded ? 'embedded' : undefined,
      config: values.config ?? DEFAULT_CONFIG,
    },
  };
}

function openStore(config: ServiceConfig, flags: Flags): LetterStore {
  const mode = flags.mode ?? (existsSync(deadLetterDir(config.dataDir)) ? 'embedded' : 'kafka');
  if (mode === 'embedded') return fileLetterStore(config.dataDir);
  const bus = new KafkaBus({ ...config.bus.kafka, clientId: `${config.bus.kafka.clientId}-dlq` });
  return kafkaLetterStore(bus, flags.topic ?? deadLetterTopic(config.bus.topicPrefix).name);
}

async function list(store: LetterStore, flags: Flags): Promise<void> {
  const { letters, unreadable } = await store.read();
  const chosen = selectLetters(letters, { stage: flags.stage, sinceMs: flags.sinceMs, now: Date.now() });
  const groups = groupLetters(chosen, await store.replayedIds());
  if (flags.json) {
    console.log(JSON.stringify({ source: store.where, letters: chosen.length, unreadable, groups }));
    return;
  }
  console.log(
    `${chosen.length} dead letter${chosen.length === 1 ? '' : 's'} in ${store.where}${unreadable ? ` (${unreadable} unreadable entries)` : ''}`,
  );
  if (groups.length === 0) return;
  const rows = groups.map((g) => [g.newest, g.stage, String(g.count), String(g.replayed), oneLine(g.error)]);
  printTable(['newest', 'stage', 'letters', 'replayed', 'error'], rows);
}

async function replay(store: LetterStore, config: ServiceConfig, flags: Flags): Promise<void> {
  const { embedded } = store;
  const { letters, unreadable } = await store.read();
  const topics = pipelineTopics(config);
  const decisions = decideReplay(letters, await store.replayedIds(), {
    stage: flags.stage,
    sinceMs: flags.sinceMs,
    now: Date.now(),
    topics: new Set(topics.keys()),
    // The in-process bus carries decoded values: a letter that does not decode cannot be queued.
    ...(embedded && { decodes: (topic: string, value: Uint8Array) => decodes(() => topics.get(topic)!.codec.decode(value)) }),
  });
  const sends: Send[] = decisions.flatMap((d) => ('topic' in d.to ? [{ letter: d.letter, topic: d.to.topic }] : []));
  const failed = flags.dryRun ? [] : await store.replay(sends);
  const stages = summarize(decisions, failed);
  const total = (key: 'replayed' | 'skipped') => Object.values(stages).reduce((n, s) => n + s[key], 0);
  if (flags.json) {
    console.log(
      JSON.stringify({
        source: store.where,
        dryRun: flags.dryRun,
        queued: embedded,
        replayed: total('replayed'),
        skipped: total('skipped'),
        unreadable,
        stages,
      }),
    );
    return;
  }
  const verb = flags.dryRun ? 'would replay' : embedded ? 'queued for agentotel up' : 'replayed';
  console.log(
    `${store.where}: ${verb} ${total('replayed')}, skipped ${total('skipped')}${unreadable ? ` (${unreadable} unreadable entries)` : ''}`,
  );
  if (Object.keys(stages).length > 0) {
    printTable(
      ['stage', flags.dryRun ? 'would replay' : 'replayed', 'skipped', 'why skipped'],
      Object.entries(stages).map(([stage, s]) => [stage, String(s.replayed), String(s.skipped), reasons(s)]),
    );
  }
}

function decodes(decode: () => unknown): boolean {
  try {
    decode();
    return true;
  } catch {
    return false;
  }
}

const reasons = (s: StageSummary) =>
  Object.entries(s.skippedBecause)
    .map(([why, n]) => `${why} ${n}`)
    .join(', ');

/** Errors may span lines (stack-like messages): one line, and not too long, in a table. */
const oneLine = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 159)}…` : flat;
};

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

export async function runDlq(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
    if (!parsed.help && parsed.command !== 'list' && parsed.command !== 'replay') {
      throw new UsageError(parsed.command ? `unknown dlq command "${parsed.command}"` : 'dlq needs a command: list or replay');
    }
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
    console.error(`${err.message}\n\n${DLQ_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(DLQ_USAGE);
    return 0;
  }
  const { command, flags } = parsed;
  const config = await loadServiceConfig(flags.config);
  setLogLevel(config.telemetry.logLevel === 'debug' ? 'debug' : 'warn'); // stdout is the answer; stderr only for trouble
  const store = openStore(config, flags);
  try {
    if (command === 'list') await list(store, flags);
    else await replay(store, config, flags);
    return 0;
  } catch (err) {
    console.error(`dlq ${command} failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await store.close();
  }
}
