/**
 * Reading transcript files whole, once, for `agentotel import`: which files under a directory
 * are an agent's transcripts, and each file's views in batches of bounded size (coalesced:
 * one view per span and batch).
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AgentName, SessionCapture } from '../../core/agent/session-spans.ts';
import { coalesce } from './coalesce.ts';
import { AGENT_DEFAULTS } from './config.ts';
import { findFiles } from './find-files.ts';
import { DEFAULT_LINE_READ, readLines } from './line-reader.ts';
import type { TranscriptParser } from './parser.ts';
import { compilePathPattern } from './path-pattern.ts';

/**
 * An agent's transcripts under `dir` at any depth, by the file name its include pattern asks
 * for (`*.jsonl`, `rollout-*.jsonl`, `session-*.jsonl`): an import may be given any folder of
 * them. A file given as `dir` is taken as it is.
 */
export async function findTranscripts(dir: string, agent: AgentName): Promise<string[]> {
  const st = await stat(dir);
  if (st.isFile()) return [path.resolve(dir)];
  const name = AGENT_DEFAULTS[agent].include.split('/').pop()!;
  return findFiles(path.resolve(dir), compilePathPattern(`**/${name}`));
}

export interface TranscriptBatch {
  captures: SessionCapture[];
  lines: number;
  /** Bytes of the file read so far (with this batch). */
  bytesRead: number;
  /** Lines longer than the line limit, skipped. */
  oversized: number;
}

/** The views of a file's complete lines, a batch every `batchBytes` of lines (and at the end). */
export async function* readTranscript(
  file: string,
  parser: TranscriptParser,
  batchBytes = 2 * 1024 * 1024,
): AsyncGenerator<TranscriptBatch> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    let batch: TranscriptBatch = { captures: [], lines: 0, bytesRead: 0, oversized: 0 };
    let batchStart = 0;
    for await (const chunk of readLines(fh, 0, size)) {
      for (const line of chunk.lines) batch.captures.push(...parser.parseLine(line));
      batch.lines += chunk.lines.length;
      batch.oversized += chunk.oversized;
      batch.bytesRead = chunk.end;
      if (chunk.end - batchStart >= batchBytes) {
        yield { ...batch, captures: coalesce(batch.captures) };
        batch = { captures: [], lines: 0, bytesRead: chunk.end, oversized: 0 };
        batchStart = chunk.end;
      }
    }
    // A last line without its newline: a one-shot import takes it as it is (a cut-off one counts as broken).
    const tail = size - batch.bytesRead;
    if (tail > 0 && tail <= DEFAULT_LINE_READ.maxLineBytes) {
      const buf = Buffer.alloc(tail);
      await fh.read(buf, 0, tail, batch.bytesRead);
      batch.captures.push(...parser.parseLine(buf.toString('utf8')));
      batch.lines++;
      batch.bytesRead = size;
    }
    if (batch.lines > 0) yield { ...batch, captures: coalesce(batch.captures) };
  } finally {
    await fh.close();
  }
}
