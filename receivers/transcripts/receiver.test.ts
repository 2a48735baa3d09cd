/**
 * The transcripts receiver tailing real files in a temporary directory: lines written in
 * pieces, restarts from the saved offsets, truncation, rotation, deletion, bad lines, and a
 * pipeline that refuses spans for a while.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentSpanId, capturesToTraces, sessionTraceId } from '../../core/agent/session-spans.ts';
import { BusUnavailableError } from '../../core/bus/bus.ts';
import { DataTooLargeError } from '../../core/component.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { fixturesDir } from '../../test/helpers/fixtures.ts';
import { tempDir } from '../../test/helpers/pipeline.ts';
import { claudeCodeFormat } from './claude-code.ts';
import { coalesce } from './coalesce.ts';
import type { TranscriptsReceiverConfig } from './config.ts';
import { TranscriptsReceiver, type TranscriptsReceiverOptions } from './receiver.ts';

const SESSION = '2e82783c-48d5-44be-b855-1acd1651fe75';
const fixtureLines = readFileSync(path.join(fixturesDir, `claude-code/a-baseline/transcripts/${SESSION}.jsonl`), 'utf8')
  .split('\n')
  .filter(Boolean);
const OTHER = '133a56c6-7e87-4a7e-8cea-54fb569e1e6a';
const otherLines = readFileSync(path.join(fixturesDir, `claude-code/e-multi-turn/transcripts/${OTHER}.jsonl`), 'utf8')
  .split('\n')
  .filter(Boolean);

/** Span ids (kind:key would do, but ids are what the pipeline sees) of lines parsed in one go. */
function expectedSpanIds(file: string, lines: string[]): Set<string> {
  const parser = claudeCodeFormat.createParser(file);
  return new Set(spanIdsOf(capturesToTraces(coalesce(lines.flatMap((l) => parser.parseLine(l))))));
}

function spanIdsOf(data: TracesData): string[] {
  return [...eachSpan(data)].map(({ span }) => span.spanId);
}

const text = (lines: string[]) => lines.map((l) => l + '\n').join('');

interface Harness {
  root: string;
  dataDir: string;
  file: string;
  published: TracesData[];
  metrics: MetricsRegistry;
  /** Set to make the pipeline refuse spans. */
  refuse: ((data: TracesData) => Error | undefined) | undefined;
  receiver: TranscriptsReceiver;
  restart(options?: TranscriptsReceiverOptions): Promise<TranscriptsReceiver>;
  spanIds(): Set<string>;
  savedOffset(): number | undefined;
  skipped(reason: string): number;
}

const running: TranscriptsReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.shutdown()));
});

async function harness(
  config: Partial<TranscriptsReceiverConfig> = {},
  options: TranscriptsReceiverOptions = {},
  prepare?: (h: { root: string; file: string }) => void,
): Promise<Harness> {
  const root = tempDir('transcripts-root');
  const dataDir = tempDir('transcripts-data');
  const file = path.join(root, '-home-dev-projects-hello-node', `${SESSION}.jsonl`);
  mkdirSync(path.dirname(file), { recursive: true });
  prepare?.({ root, file });
  const h = {
    root,
    dataDir,
    file,
    published: [] as TracesData[],
    metrics: new MetricsRegistry(),
    refuse: undefined,
  } as Partial<Harness> as Harness;
  const create = async (opts: TranscriptsReceiverOptions) => {
    const receiver = new TranscriptsReceiver(
      {
        sources: [{ agent: 'claude-code', root, include: '**/*.jsonl' }],
        pollIntervalMs: 3_600_000, // the tests poll themselves
        startAt: 'beginning',
        ...config,
      },
      {
        id: 'transcripts',
        dataDir,
        configDir: root,
        metrics: h.metrics,
        next: {
          traces: async (data) => {
            const err = h.refuse?.(data);
            if (err) throw err;
            h.published.push(data);
          },
        },
      },
      opts,
    );
    await receiver.start();
    running.push(receiver);
    return receiver;
  };
  h.receiver = await create(options);
  h.restart = async (opts = options) => {
    await h.receiver.shutdown();
    running.splice(running.indexOf(h.receiver), 1);
    return (h.receiver = await create(opts));
  };
  h.spanIds = () => new Set(h.published.flatMap(spanIdsOf));
  h.savedOffset = () => {
    const state = path.join(dataDir, 'offsets.json');
    if (!existsSync(state)) return undefined;
    return (JSON.parse(readFileSync(state, 'utf8')) as { files: Record<string, { offset: number }> }).files[file]?.offset;
  };
  h.skipped = (reason) => h.metrics.counter('agentotel_transcript_lines_skipped_total', '').get({ agent: 'claude-code', reason });
  return h;
}

describe('transcripts receiver', () => {
  it('reads complete lines only: a half-written last line waits for its newline', async () => {
    const h = await harness();
    const half = fixtureLines[20]!.slice(0, 100);
    writeFileSync(h.file, text(fixtureLines.slice(0, 20)) + half);
    await h.receiver.poll();
    expect(h.savedOffset()).toBe(Buffer.byteLength(text(fixtureLines.slice(0, 20))));
    expect(h.skipped('broken JSON')).toBe(0);
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, fixtureLines.slice(0, 20)));

    appendFileSync(h.file, fixtureLines[20]!.slice(100) + '\n' + text(fixtureLines.slice(21)));
    await h.receiver.poll();
    expect(h.skipped('broken JSON')).toBe(0);
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, fixtureLines));
    expect(h.savedOffset()).toBe(Buffer.byteLength(text(fixtureLines)));
    expect(h.metrics.counter('agentotel_transcript_lines_total', '').get({ agent: 'claude-code' })).toBe(fixtureLines.length);
  });

  it('resumes after a restart right after the last acknowledged line, with the session known from the lines before', async () => {
    const h = await harness();
    writeFileSync(h.file, text(fixtureLines.slice(0, 22)));
    await h.receiver.poll();
    const firstPart = h.spanIds();

    await h.restart();
    h.published.length = 0;
    appendFileSync(h.file, text(fixtureLines.slice(22)));
    await h.receiver.poll();
    // Only the new lines were read and sent...
    expect(h.metrics.counter('agentotel_transcript_lines_total', '').get({ agent: 'claude-code' })).toBe(fixtureLines.length);
    const secondPart = h.spanIds();
    const whole = expectedSpanIds(h.file, fixtureLines);
    expect(new Set([...firstPart, ...secondPart])).toEqual(whole);
    // ...and what they tell is parented as if the file had been read in one go.
    const spans = h.published.flatMap((d) => [...eachSpan(d)].map(({ span }) => span));
    const chat = spans.find((s) => s.name === 'chat claude-opus-5-5')!;
    const prompt = spans.find((s) => s.name === 'prompt')!;
    expect(chat.parentSpanId).toBe(prompt.spanId);
    const session = spans.find((s) => s.name === 'invoke_agent claude-code')!;
    const firstRecord = (JSON.parse(fixtureLines[0]!) as { timestamp: string }).timestamp;
    expect(session.startTimeUnixNano).toBe(String(BigInt(Date.parse(firstRecord)) * 1_000_000n));
    // The first model call was told entirely before the restart: it is not sent again.
    const firstCall = agentSpanId(sessionTraceId('claude-code', SESSION), { kind: 'model_call', key: 'req_fake_1' });
    expect(firstPart.has(firstCall)).toBe(true);
    expect(secondPart.has(firstCall)).toBe(false);
  });

  it('sends again, after a restart, the lines whose spans the pipeline never acknowledged', async () => {
    const h = await harness();
    writeFileSync(h.file, text(fixtureLines.slice(0, 10)));
    await h.receiver.poll();
    const acknowledged = h.savedOffset();

    appendFileSync(h.file, text(fixtureLines.slice(10)));
    h.refuse = () => new BusUnavailableError('broker down');
    const stuck = h.receiver.poll();
    await new Promise((r) => setTimeout(r, 400)); // a few retries
    expect(h.metrics.counter('agentotel_transcript_publish_retries_total', '').get({ agent: 'claude-code' })).toBeGreaterThan(1);
    await h.restart(); // shuts down while the pipeline still refuses
    await stuck;
    expect(h.savedOffset()).toBe(acknowledged);

    h.refuse = undefined;
    h.published.length = 0;
    await h.receiver.poll();
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, fixtureLines.slice(10)));
    expect(h.savedOffset()).toBe(Buffer.byteLength(text(fixtureLines)));
  });

  it('waits out a pipeline outage and loses nothing', async () => {
    const h = await harness();
    let refusals = 3;
    h.refuse = () => (refusals-- > 0 ? new BusUnavailableError('the bus did not acknowledge') : undefined);
    writeFileSync(h.file, text(fixtureLines));
    await h.receiver.poll();
    expect(refusals).toBe(-1);
    expect(h.metrics.counter('agentotel_transcript_publish_retries_total', '').get({ agent: 'claude-code' })).toBe(3);
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, fixtureLines));
  });

  it('skips a broken line and an unknown record type, counted by reason, and reads on', async () => {
    const h = await harness();
    writeFileSync(
      h.file,
      text([...fixtureLines.slice(0, 5), '{"type":"user",', '{"type":"hologram","sessionId":"x"}', ...fixtureLines.slice(5)]),
    );
    await h.receiver.poll();
    expect(h.skipped('broken JSON')).toBe(1);
    expect(h.skipped('unknown record type hologram')).toBe(1);
    expect(h.skipped('record type queue-operation')).toBe(2);
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, fixtureLines));
    const page = h.metrics.render();
    expect(page).toContain('agentotel_transcript_lines_skipped_total{agent="claude-code",reason="broken JSON"} 1');
  });

  it('reads a truncated file again from its start', async () => {
    const h = await harness();
    writeFileSync(h.file, text(fixtureLines));
    await h.receiver.poll();
    truncateSync(h.file, 0);
    writeFileSync(h.file, text(otherLines.slice(0, 8)));
    h.published.length = 0;
    await h.receiver.poll();
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, otherLines.slice(0, 8)));
    expect(h.savedOffset()).toBe(Buffer.byteLength(text(otherLines.slice(0, 8))));
  });

  it('reads a file rewritten in place (same size or larger, other first bytes) again from its start', async () => {
    const h = await harness();
    writeFileSync(h.file, text(fixtureLines.slice(0, 3)));
    await h.receiver.poll();
    writeFileSync(h.file, text(otherLines)); // same inode, larger
    h.published.length = 0;
    await h.receiver.poll();
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, otherLines));
  });

  it('reads a rotated file (another inode at the same path) from its start and forgets deleted files', async () => {
    const h = await harness();
    writeFileSync(h.file, text(fixtureLines));
    await h.receiver.poll();
    renameSync(h.file, path.join(h.dataDir, 'moved-away.jsonl'));
    writeFileSync(h.file, text(otherLines.slice(0, 30)));
    h.published.length = 0;
    await h.receiver.poll();
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, otherLines.slice(0, 30)));

    rmSync(h.file);
    await h.receiver.poll();
    expect(h.savedOffset()).toBeUndefined();
    expect(h.metrics.render()).toContain('agentotel_transcript_files{agent="claude-code"} 0');
  });

  it('keeps the parsers of the files written last; a file written again later gets a new one fed the file up to its offset', async () => {
    const h = await harness();
    writeFileSync(h.file, text(fixtureLines.slice(0, 22)));
    await h.receiver.poll();
    for (let i = 0; i < 70; i++) {
      const other = path.join(h.root, `-p${i}`, `${i}.jsonl`);
      mkdirSync(path.dirname(other), { recursive: true });
      writeFileSync(other, text(otherLines.slice(0, 3)));
    }
    await h.receiver.poll(); // 70 more parsers: the first file's is gone
    h.published.length = 0;
    appendFileSync(h.file, text(fixtureLines.slice(22)));
    await h.receiver.poll();
    const session = h.published.flatMap((d) => [...eachSpan(d)]).find(({ span }) => span.name === 'invoke_agent claude-code')!.span;
    const firstRecord = (JSON.parse(fixtureLines[0]!) as { timestamp: string }).timestamp;
    expect(session.startTimeUnixNano).toBe(String(BigInt(Date.parse(firstRecord)) * 1_000_000n));
    expect(h.metrics.counter('agentotel_transcript_lines_total', '').get({ agent: 'claude-code' })).toBe(fixtureLines.length + 70 * 3);
  });

  it('reads big files in chunks, and skips (counting) a line longer than the limit', async () => {
    const h = await harness({}, { lineRead: { chunkBytes: 4096, maxLineBytes: 16 * 1024 } });
    const long = fixtureLines.filter((l) => Buffer.byteLength(l) > 16 * 1024);
    expect(long.length).toBeGreaterThan(0);
    writeFileSync(h.file, text(fixtureLines));
    await h.receiver.poll();
    expect(h.published.length).toBeGreaterThan(1); // one publish per chunk with spans
    expect(h.skipped('line longer than 16384 bytes')).toBe(long.length);
    const kept = fixtureLines.filter((l) => Buffer.byteLength(l) <= 16 * 1024);
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, kept));
    expect(h.savedOffset()).toBe(Buffer.byteLength(text(fixtureLines)));
  });

  it('sends line by line when the pipeline refuses a batch as too large, dropping only the line it can never take', async () => {
    const h = await harness();
    const hasToolResult = (data: TracesData) =>
      [...eachSpan(data)].some(({ span }) => span.attributes?.some((a) => a.key === 'gen_ai.tool.call.result'));
    h.refuse = (data) => (hasToolResult(data) ? new DataTooLargeError('a span is larger than the bus takes') : undefined);
    writeFileSync(h.file, text(fixtureLines));
    await h.receiver.poll();
    expect(h.skipped('spans too large for the bus')).toBe(1);
    // The tool call span itself was also told by its tool_use line.
    expect(h.spanIds()).toEqual(expectedSpanIds(h.file, fixtureLines));
    expect(h.savedOffset()).toBe(Buffer.byteLength(text(fixtureLines)));
  });

  it('with start_at: end skips what files found at the first start hold, and reads files that appear later whole', async () => {
    const written = text(fixtureLines.slice(0, 10)) + fixtureLines[10]!.slice(0, 50); // line 10 is being written
    const h = await harness({ startAt: 'end' }, {}, ({ file }) => writeFileSync(file, written));
    await h.receiver.poll();
    expect(h.published).toEqual([]);
    expect(h.savedOffset()).toBe(Buffer.byteLength(text(fixtureLines.slice(0, 10))));

    appendFileSync(h.file, fixtureLines[10]!.slice(50) + '\n' + text(fixtureLines.slice(11)));
    const later = path.join(h.root, '-home-dev-projects-notes-app', `${OTHER}.jsonl`);
    mkdirSync(path.dirname(later), { recursive: true });
    writeFileSync(later, text(otherLines.slice(0, 30)));
    await h.receiver.poll();
    expect(h.skipped('broken JSON')).toBe(0);
    const expected = new Set([...expectedSpanIds(h.file, fixtureLines.slice(10)), ...expectedSpanIds(later, otherLines.slice(0, 30))]);
    expect(h.spanIds()).toEqual(expected);

    // A restart is not a first start: what appended meanwhile and new files are read whole.
    await h.restart();
    h.published.length = 0;
    appendFileSync(later, text(otherLines.slice(30)));
    await h.receiver.poll();
    expect(h.spanIds()).toEqual(expectedSpanIds(later, otherLines.slice(30)));
  });
});
