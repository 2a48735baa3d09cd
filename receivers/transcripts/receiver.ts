/**
 * The transcripts receiver: polls each source's root for transcript files and tails them. New
 * complete lines are parsed by the agent's format, their views coalesced into spans and handed
 * to the pipeline; a file's offset moves (and is saved in the component's data directory) only
 * once the pipeline acknowledged them, so a restart resumes right after the last acknowledged
 * line (at-least-once: a line sent again names the same spans).
 *
 * A file whose inode changed, that shrank below its offset or whose first bytes changed is read
 * again from its start; a deleted file is forgotten. A bus that does not take the spans is
 * retried with backoff, never skipped. After a restart the lines before the saved offset are
 * replayed to a fresh parser (their views dropped), so it knows the session as before.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { capturesToTraces, type AgentName, type SessionCapture } from '../../core/agent/session-spans.ts';
import { DataTooLargeError, type ComponentContext, type NextConsumers, type Receiver } from '../../core/component.ts';
import { log } from '../../core/log.ts';
import type { Counter } from '../../core/metrics.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { countSpans } from '../../core/otlp/traces.ts';
import { coalesce } from './coalesce.ts';
import type { TranscriptSource, TranscriptsReceiverConfig } from './config.ts';
import { findFiles } from './find-files.ts';
import { transcriptFormats } from './formats.ts';
import { DEFAULT_LINE_READ, lastLineEnd, readLines, type LineReadOptions } from './line-reader.ts';
import { HEAD_BYTES, headOf, OffsetStore, type FileOffset } from './offsets.ts';
import type { TranscriptParser } from './parser.ts';
import { compilePathPattern, type PathPattern } from './path-pattern.ts';

const MAX_BACKOFF_MS = 5_000;
const MAX_PARSERS = 64;

/** Thrown out of a publish retry loop when the receiver shuts down: the batch stays unacknowledged. */
class ShuttingDown extends Error {}

interface Source extends TranscriptSource {
  pattern: PathPattern;
}

/** A file being tailed in this process: its parser has consumed the lines up to `parsedTo`. */
interface Tailed {
  parser: TranscriptParser;
  parsedTo: number;
  /** The parser's skip counts already added to the metric. */
  counted: Map<string, number>;
}

export interface TranscriptsReceiverOptions {
  lineRead?: LineReadOptions;
}

export class TranscriptsReceiver implements Receiver {
  private readonly sources: Source[];
  private readonly next: (data: TracesData) => Promise<void>;
  private readonly tailed = new Map<string, Tailed>();
  private readonly fileErrors = new Map<string, string>();
  private readonly lines: Counter;
  private readonly skipped: Counter;
  private readonly spans: Counter;
  private readonly retries: Counter;
  private offsets: OffsetStore | undefined;
  private firstScanDone = false;
  private stopping = false;
  private polls: Promise<void> = Promise.resolve();
  private loop: Promise<void> | undefined;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly config: TranscriptsReceiverConfig,
    private readonly context: ComponentContext & { next: NextConsumers },
    private readonly options: TranscriptsReceiverOptions = {},
  ) {
    const next = context.next.traces;
    if (!next) throw new Error(`receiver ${context.id}: not in a traces pipeline`);
    this.next = next;
    this.sources = config.sources.map((s) => ({
      ...s,
      root: path.resolve(context.configDir, s.root),
      pattern: compilePathPattern(s.include),
    }));
    const m = context.metrics;
    this.lines = m.counter('agentotel_transcript_lines_total', 'Complete transcript lines read, by agent.');
    this.skipped = m.counter('agentotel_transcript_lines_skipped_total', 'Transcript lines that yielded no span, by agent and reason.');
    this.spans = m.counter('agentotel_transcript_spans_total', 'Spans from transcripts acknowledged by the pipeline, by agent.');
    this.retries = m.counter('agentotel_transcript_publish_retries_total', 'Publishes of transcript spans retried, by agent.');
  }

  async start(): Promise<void> {
    const offsets = (this.offsets = await OffsetStore.open(this.context.dataDir));
    const files = this.context.metrics.gauge('agentotel_transcript_files', 'Transcript files being tailed, by agent.');
    for (const agent of new Set(this.sources.map((s) => s.agent))) files.track({ agent }, () => offsets.count(agent));
    this.loop = this.run();
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const wake of [...this.sleepers]) wake();
    await this.loop;
    await this.polls;
    await this.offsets?.save();
  }

  /** One pass over every source (after the pass in progress, if any); resolves when it is done. */
  poll(): Promise<void> {
    const pass = this.polls.then(() => this.pollOnce());
    this.polls = pass.catch(() => undefined);
    return pass;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await this.poll().catch((err: unknown) =>
        log('error', 'transcripts: poll failed', { receiver: this.context.id, error: String(err) }),
      );
      await this.sleep(this.config.pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private async pollOnce(): Promise<void> {
    const offsets = this.offsets!;
    const seen = new Set<string>();
    try {
      for (const source of this.sources) {
        for (const file of await findFiles(source.root, source.pattern)) {
          if (this.stopping) return;
          if (seen.has(file)) continue; // matched by an earlier source
          seen.add(file);
          await this.tailFile(source.agent, file);
        }
      }
      for (const file of offsets.files()) {
        if (seen.has(file)) continue;
        offsets.delete(file);
        this.tailed.delete(file);
        this.fileErrors.delete(file);
      }
      if (!this.firstScanDone) {
        log('info', 'transcripts: tailing', { receiver: this.context.id, files: seen.size, roots: this.sources.map((s) => s.root) });
      }
      this.firstScanDone = true;
    } catch (err) {
      if (!(err instanceof ShuttingDown)) throw err;
    } finally {
      await offsets.save();
    }
  }

  private async tailFile(agent: AgentName, file: string): Promise<void> {
    let fh: FileHandle | undefined;
    try {
      const saved = this.offsets!.get(file);
      const st = await stat(file, { bigint: true });
      if (saved && saved.ino === String(st.ino) && Number(st.size) === saved.offset) return; // nothing new
      fh = await open(file, 'r');
      const now = await fh.stat({ bigint: true });
      const size = Number(now.size);
      const state = await this.offsetFor(agent, file, fh, String(now.ino), size);
      if (size > state.offset) await this.readNew(agent, file, fh, state, size);
      this.fileErrors.delete(file);
    } catch (err) {
      if (err instanceof ShuttingDown) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // deleted since the walk: forgotten on the next pass
      const message = String(err);
      // A file that keeps failing (unreadable, vanished mid-read) is logged once per distinct error.
      if (this.fileErrors.get(file) !== message)
        log('warn', 'transcripts: cannot read file', { receiver: this.context.id, file, error: message });
      this.fileErrors.set(file, message);
    } finally {
      await fh?.close();
    }
  }

  /** The saved offset of a file, or where to start on it: a new, rotated, truncated or rewritten file starts over. */
  private async offsetFor(agent: AgentName, file: string, fh: FileHandle, ino: string, size: number): Promise<FileOffset> {
    const offsets = this.offsets!;
    const saved = offsets.get(file);
    if (saved && saved.ino === ino && size >= saved.offset) {
      if (size === saved.offset) return saved;
      const head = await headOf(fh, saved.headBytes);
      if (head.headHash === saved.headHash) return saved;
    }
    let offset = 0;
    if (saved) {
      log('info', 'transcripts: file replaced or truncated, reading it from its start', { receiver: this.context.id, file });
    } else if (offsets.firstStart && !this.firstScanDone && this.config.startAt === 'end') {
      offset = await lastLineEnd(fh, size);
    }
    this.tailed.delete(file);
    const state: FileOffset = { agent, ino, offset, ...(await headOf(fh, offset)) };
    offsets.set(file, state);
    return state;
  }

  private async readNew(agent: AgentName, file: string, fh: FileHandle, state: FileOffset, size: number): Promise<void> {
    const lineRead = this.options.lineRead ?? DEFAULT_LINE_READ;
    const tailed = await this.parserFor(agent, file, fh, state.offset);
    for await (const chunk of readLines(fh, state.offset, size, lineRead)) {
      const perLine = chunk.lines.map((l) => tailed.parser.parseLine(l));
      tailed.parsedTo = chunk.end;
      this.lines.inc({ agent }, chunk.lines.length);
      this.countSkipped(agent, tailed);
      if (chunk.oversized > 0) this.skipped.inc({ agent, reason: `line longer than ${lineRead.maxLineBytes} bytes` }, chunk.oversized);
      await this.publishLines(agent, perLine);
      state.offset = chunk.end;
      if (state.headBytes < HEAD_BYTES && chunk.end > state.headBytes) Object.assign(state, await headOf(fh, chunk.end));
      this.offsets!.set(file, state);
      if (this.stopping) return;
    }
  }

  /** The file's parser, positioned at `offset`: a new one is first fed the lines before it, their views dropped. */
  private async parserFor(agent: AgentName, file: string, fh: FileHandle, offset: number): Promise<Tailed> {
    const current = this.tailed.get(file);
    this.tailed.delete(file); // re-inserted below: the map is in order of use
    if (current && current.parsedTo === offset) {
      this.tailed.set(file, current);
      return current;
    }
    const parser = transcriptFormats[agent]!.createParser(file);
    if (offset > 0)
      for await (const chunk of readLines(fh, 0, offset, this.options.lineRead)) for (const l of chunk.lines) parser.parseLine(l);
    const tailed: Tailed = { parser, parsedTo: offset, counted: new Map(parser.skipped) };
    this.tailed.set(file, tailed);
    // The parsers of the files least recently written go (a first start may read thousands); one that is
    // written again gets a new parser, fed the file up to its offset.
    if (this.tailed.size > MAX_PARSERS) this.tailed.delete(this.tailed.keys().next().value!);
    return tailed;
  }

  private countSkipped(agent: AgentName, tailed: Tailed): void {
    for (const [reason, n] of tailed.parser.skipped) {
      const before = tailed.counted.get(reason) ?? 0;
      if (n > before) this.skipped.inc({ agent, reason }, n - before);
      tailed.counted.set(reason, n);
    }
  }

  /** The spans of a batch of lines; when the bus refuses them as too large, line by line, dropping (and counting) only a line it can never take. */
  private async publishLines(agent: AgentName, perLine: SessionCapture[][]): Promise<void> {
    try {
      await this.publish(agent, perLine.flat());
    } catch (err) {
      if (!(err instanceof DataTooLargeError)) throw err;
      if (perLine.length === 1) this.skipped.inc({ agent, reason: 'spans too large for the bus' });
      else for (const captures of perLine) await this.publishLines(agent, [captures]);
    }
  }

  private async publish(agent: AgentName, captures: SessionCapture[]): Promise<void> {
    const data = capturesToTraces(coalesce(captures));
    const n = countSpans(data);
    if (n === 0) return;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.next(data);
        this.spans.inc({ agent }, n);
        return;
      } catch (err) {
        if (err instanceof DataTooLargeError) throw err;
        if (this.stopping) throw new ShuttingDown();
        this.retries.inc({ agent });
        if (attempt % 10 === 0) {
          log('warn', 'transcripts: the pipeline did not take the spans, retrying', {
            receiver: this.context.id,
            attempt,
            error: String(err),
          });
        }
        await this.sleep(Math.min(100 * 2 ** attempt, MAX_BACKOFF_MS));
        if (this.stopping) throw new ShuttingDown();
      }
    }
  }
}
