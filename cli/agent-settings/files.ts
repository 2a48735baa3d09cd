/**
 * Planned file changes and how they are written: a timestamped backup of a user's file before
 * it changes, then an atomic replace (temp file + rename) that keeps the file's mode. Files
 * agentotel creates are 0600: they hold the ingest token.
 */
import { chmod, copyFile, constants, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface FileChange {
  file: string;
  /** Content now; null when the file does not exist. */
  before: string | null;
  /** Content wanted; null deletes the file. */
  after: string | null;
  /** A user's file gets a backup before it changes; agentotel's own records do not. */
  backup: boolean;
}

export const changed = (c: FileChange): boolean => c.before !== c.after;

export async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** 2026-11-22T02:30:00.123Z → 20261122T023000Z */
function stamp(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Copies `file` to `<file>.agentotel-backup-<UTC time>` (a new name if taken) with its mode. */
async function backup(file: string, now: Date): Promise<string> {
  const { mode } = await stat(file);
  const base = `${file}.agentotel-backup-${stamp(now)}`;
  for (let n = 1; ; n++) {
    const target = n === 1 ? base : `${base}-${n}`;
    try {
      await copyFile(file, target, constants.COPYFILE_EXCL);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    await chmod(target, mode & 0o777);
    return target;
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const mode = await stat(file).then(
    (s) => s.mode & 0o777,
    () => 0o600,
  );
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.agentotel-tmp-${process.pid}`;
  await writeFile(temp, text, { mode });
  await chmod(temp, mode); // writeFile's mode is filtered by the umask
  await rename(temp, file);
}

/** Writes the changes that change something; returns the backups made, by file. */
export async function applyChanges(changes: FileChange[], now = new Date()): Promise<Map<string, string>> {
  const backups = new Map<string, string>();
  for (const c of changes.filter(changed)) {
    // A file deleted held only agentotel's wiring (a record, a block, settings init created): nothing to back up.
    if (c.backup && c.before !== null && c.after !== null) backups.set(c.file, await backup(c.file, now));
    if (c.after === null) await unlink(c.file).catch(() => undefined);
    else await writeAtomically(c.file, c.after);
  }
  return backups;
}
