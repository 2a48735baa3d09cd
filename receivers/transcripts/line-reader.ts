/**
 * Reading the complete lines of a file between two offsets, a chunk at a time (a transcript can
 * be hundreds of MB). A last line without its newline is being written: it is left for later.
 */
import type { FileHandle } from 'node:fs/promises';

export interface LineChunk {
  /** Complete lines, without their newline (and without a trailing \r). */
  lines: string[];
  /** Offset just after the last newline of this chunk: where the next read starts. */
  end: number;
  /** Lines dropped because they were longer than maxLineBytes (never held whole in memory). */
  oversized: number;
}

export interface LineReadOptions {
  chunkBytes: number;
  maxLineBytes: number;
}

export const DEFAULT_LINE_READ: LineReadOptions = { chunkBytes: 1024 * 1024, maxLineBytes: 64 * 1024 * 1024 };

const NEWLINE = 0x0a;

function splitLines(body: Buffer): string[] {
  const lines = body.toString('utf8').split('\n');
  lines.pop(); // body ends with a newline
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

export async function* readLines(file: FileHandle, from: number, to: number, options = DEFAULT_LINE_READ): AsyncGenerator<LineChunk> {
  let scan = from;
  let pending: Buffer[] = []; // bytes after the last newline seen, not yet a complete line
  let pendingBytes = 0;
  let discarding = false; // inside a line longer than maxLineBytes
  while (scan < to) {
    const buf = Buffer.allocUnsafe(Math.min(options.chunkBytes, to - scan));
    const { bytesRead } = await file.read(buf, 0, buf.length, scan);
    if (bytesRead === 0) return;
    const chunk = buf.subarray(0, bytesRead);
    scan += bytesRead;
    const last = chunk.lastIndexOf(NEWLINE);
    if (last < 0) {
      if (!discarding) {
        pending.push(chunk);
        pendingBytes += bytesRead;
        if (pendingBytes > options.maxLineBytes) [discarding, pending, pendingBytes] = [true, [], 0];
      }
      continue;
    }
    let oversized = 0;
    let body: Buffer;
    if (discarding) {
      oversized = 1;
      discarding = false;
      body = chunk.subarray(chunk.indexOf(NEWLINE) + 1, last + 1);
    } else {
      body = pendingBytes > 0 ? Buffer.concat([...pending, chunk.subarray(0, last + 1)]) : chunk.subarray(0, last + 1);
    }
    const rest = chunk.subarray(last + 1);
    [pending, pendingBytes] = rest.length > 0 ? [[rest], rest.length] : [[], 0];
    yield { lines: splitLines(body), end: scan - rest.length, oversized };
  }
}

/** Offset just after the last newline before `size` (0 when there is none): where a reader that skips what exists starts. */
export async function lastLineEnd(file: FileHandle, size: number, chunkBytes = 64 * 1024): Promise<number> {
  for (let end = size; end > 0; end -= chunkBytes) {
    const start = Math.max(0, end - chunkBytes);
    const buf = Buffer.allocUnsafe(end - start);
    const { bytesRead } = await file.read(buf, 0, buf.length, start);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (nl >= 0) return start + nl + 1;
  }
  return 0;
}
