/**
 * The disk spool of accepted hook payloads the pipeline could not take. One file per batch,
 * `<sequence>.json` = {"payloads": n, "traces": <TracesData>}, written under a temporary name
 * and renamed, so a crash leaves whole entries or none. Entries are replayed oldest first and
 * deleted once the pipeline has acknowledged them; a process that restarts finds them again.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { log } from '../../core/log.ts';
import type { TracesData } from '../../core/otlp/model.ts';

export interface SpoolEntry {
  /** Hook payloads the entry holds (for the counters). */
  payloads: number;
  traces: TracesData;
}

const ENTRY = /^(\d{16})\.json$/;

function isEntry(v: unknown): v is SpoolEntry {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.payloads === 'number' &&
    e.traces !== null &&
    typeof e.traces === 'object' &&
    Array.isArray((e.traces as TracesData).resourceSpans)
  );
}

export class Spool {
  private readonly files: { name: string; bytes: number }[] = [];
  private total = 0;
  private sequence = 0;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** Creates the directory and finds the entries a previous run left. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of (await readdir(this.dir)).sort()) {
      if (name.endsWith('.tmp')) {
        await rm(path.join(this.dir, name), { force: true }); // an append cut short by a crash
        continue;
      }
      const m = ENTRY.exec(name);
      if (!m) continue;
      const { size } = await stat(path.join(this.dir, name));
      this.files.push({ name, bytes: size });
      this.total += size;
      this.sequence = Math.max(this.sequence, Number(m[1]));
    }
  }

  get entries(): number {
    return this.files.length;
  }

  get bytes(): number {
    return this.total;
  }

  hasRoom(): boolean {
    return this.total < this.maxBytes;
  }

  /** False (and nothing written) when the entry would take the spool over its size limit. */
  async append(entry: SpoolEntry): Promise<boolean> {
    const body = JSON.stringify(entry);
    const bytes = Buffer.byteLength(body);
    if (this.total + bytes > this.maxBytes) return false;
    const name = `${String(++this.sequence).padStart(16, '0')}.json`;
    const file = path.join(this.dir, name);
    await writeFile(`${file}.tmp`, body);
    await rename(`${file}.tmp`, file);
    this.files.push({ name, bytes });
    this.total += bytes;
    return true;
  }

  /** The oldest entry; an unreadable one is moved aside (`.corrupt`) and skipped. */
  async head(): Promise<SpoolEntry | undefined> {
    while (this.files.length > 0) {
      const file = path.join(this.dir, this.files[0]!.name);
      try {
        const entry: unknown = JSON.parse(await readFile(file, 'utf8'));
        if (isEntry(entry)) return entry;
        throw new Error('not a spool entry');
      } catch (err) {
        log('error', 'hooks receiver: unreadable spool entry moved aside', { file, error: (err as Error).message });
        await rename(file, `${file}.corrupt`).catch(() => undefined);
        this.dropHead();
      }
    }
    return undefined;
  }

  /** Deletes the oldest entry (after the pipeline acknowledged it). */
  async removeHead(): Promise<void> {
    const head = this.files[0];
    if (!head) return;
    await rm(path.join(this.dir, head.name), { force: true });
    this.dropHead();
  }

  private dropHead(): void {
    this.total -= this.files.shift()?.bytes ?? 0;
  }
}
