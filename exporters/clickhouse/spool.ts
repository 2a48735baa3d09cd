/**
 * The disk spool of the embedded mode: a batch that could not be inserted within the retry budget
 * is written to one file per table (header line + JSONEachRow body), fsync'd, and re-inserted by a
 * background loop once ClickHouse takes inserts again. A file is deleted only after its insert
 * succeeded; rows that a crash between insert and delete left stored are skipped on the next try.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Candidate, TableKind } from './identity.ts';

export interface SpoolHeader {
  kind: TableKind;
  candidates: Candidate[];
}

export interface SpooledBatch {
  header: SpoolHeader;
  /** JSONEachRow lines, one per candidate. */
  lines: string[];
}

/** Inserts a spooled batch; resolves once stored (already-stored rows skipped), rejects while ClickHouse is down. */
export type Redrive = (batch: SpooledBatch) => Promise<void>;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class Spool {
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly redrive: Redrive,
    private readonly onError: (err: unknown, file: string) => void,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  files(): string[] {
    return readdirSync(this.dir).filter((f) => f.endsWith('.jsonl')).sort();
  }

  write(header: SpoolHeader, body: string): string {
    const name = `${Date.now().toString().padStart(15, '0')}-${process.pid}-${String(this.seq++).padStart(6, '0')}-${header.kind}.jsonl`;
    const tmp = path.join(this.dir, `${name}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${JSON.stringify(header)}\n${body}`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path.join(this.dir, name));
    fsyncDir(this.dir);
    return name;
  }

  read(file: string): SpooledBatch {
    const text = readFileSync(path.join(this.dir, file), 'utf8');
    const lines = text.split('\n').filter(Boolean);
    const header = JSON.parse(lines.shift() ?? '{}') as SpoolHeader;
    if (!header.kind || !Array.isArray(header.candidates) || header.candidates.length !== lines.length) {
      throw new Error(`spool file ${file} is damaged: header and rows do not match`);
    }
    return { header, lines };
  }

  /** Re-inserts spooled batches oldest first; stops at the first failure. Returns how many were drained. */
  drainOnce(): Promise<number> {
    const run = async () => {
      let drained = 0;
      for (const file of this.files()) {
        try {
          await this.redrive(this.read(file));
        } catch (err) {
          this.onError(err, file);
          break;
        }
        unlinkSync(path.join(this.dir, file));
        fsyncDir(this.dir);
        drained++;
      }
      return drained;
    };
    // One drain at a time: the timer and an explicit call must not insert the same file twice.
    const chained = (this.running ?? Promise.resolve()).then(run);
    this.running = chained.then(() => undefined, () => undefined);
    return chained;
  }

  start(intervalMs: number): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.drainOnce().finally(tick), intervalMs);
      this.timer.unref();
    };
    void this.drainOnce().finally(tick);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
