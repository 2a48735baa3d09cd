/**
 * Durable read positions of the tailed files, in `<dataDir>/offsets.json` (written to a temporary
 * file, then renamed, so a crash leaves the old or the new state, never half of one). A file's
 * offset moves only after the bus acknowledged the spans of the lines before it.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentName } from '../../core/agent/session-spans.ts';
import { log } from '../../core/log.ts';
import { isRecord } from './json-fields.ts';

export interface FileOffset {
  agent: AgentName;
  /** Inode when the offset was taken: another inode at the same path is a new file. */
  ino: string;
  offset: number;
  /** Hash of the file's first `headBytes` bytes (already read): if they change, the file was rewritten. */
  headBytes: number;
  headHash: string;
}

export const HEAD_BYTES = 256;

/** The head fingerprint of a file whose first `offset` bytes were read. */
export async function headOf(file: FileHandle, offset: number): Promise<{ headBytes: number; headHash: string }> {
  const buf = Buffer.alloc(Math.min(offset, HEAD_BYTES));
  const { bytesRead } = await file.read(buf, 0, buf.length, 0);
  return { headBytes: bytesRead, headHash: createHash('sha256').update(buf.subarray(0, bytesRead)).digest('hex') };
}

function isFileOffset(v: unknown): v is FileOffset {
  return (
    isRecord(v) &&
    typeof v.agent === 'string' &&
    typeof v.ino === 'string' &&
    typeof v.offset === 'number' &&
    typeof v.headBytes === 'number' &&
    typeof v.headHash === 'string'
  );
}

export class OffsetStore {
  /** A first start is saved even with no files, so the next start is not a first start. */
  private dirty: boolean;

  private constructor(
    private readonly file: string,
    private readonly offsets: Map<string, FileOffset>,
    /** No state existed: this is the receiver's first start. */
    readonly firstStart: boolean,
  ) {
    this.dirty = firstStart;
  }

  static async open(dataDir: string): Promise<OffsetStore> {
    const file = path.join(dataDir, 'offsets.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return new OffsetStore(file, new Map(), true);
    }
    const offsets = new Map<string, FileOffset>();
    try {
      const parsed: unknown = JSON.parse(text);
      const files = isRecord(parsed) && isRecord(parsed.files) ? parsed.files : {};
      for (const [p, v] of Object.entries(files)) if (isFileOffset(v)) offsets.set(p, v);
    } catch (err) {
      // Starting over re-sends lines (at-least-once, harmless with deterministic ids); nothing is lost.
      log('warn', 'transcripts: unreadable offsets file, reading every file from its start', { file, error: String(err) });
    }
    return new OffsetStore(file, offsets, false);
  }

  get(file: string): FileOffset | undefined {
    return this.offsets.get(file);
  }

  set(file: string, offset: FileOffset): void {
    this.offsets.set(file, offset);
    this.dirty = true;
  }

  delete(file: string): void {
    this.dirty = this.offsets.delete(file) || this.dirty;
  }

  files(): string[] {
    return [...this.offsets.keys()];
  }

  count(agent: AgentName): number {
    let n = 0;
    for (const o of this.offsets.values()) if (o.agent === agent) n++;
    return n;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      await writeFile(tmp, JSON.stringify({ version: 1, files: Object.fromEntries(this.offsets) }));
      await rename(tmp, this.file);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}
