/** The transcript files of a source: every file under its root whose relative path matches the include pattern. */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PathPattern } from './path-pattern.ts';

/** `~` and `~/…` name the user's home directory. */
export function expandHome(p: string): string {
  return p === '~' ? os.homedir() : p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return []; // vanished or unreadable: nothing to tail there
  }
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Absolute paths, sorted; a missing root has none. Symbolic links to files count, linked directories are not entered. */
export async function findFiles(root: string, pattern: PathPattern): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    for (const e of await entries(dir)) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < pattern.maxDepth) await walk(full, relPath, depth + 1);
      } else if ((e.isFile() || (e.isSymbolicLink() && (await isFile(full)))) && pattern.matches(relPath)) {
        found.push(full);
      }
    }
  };
  await walk(root, '', 1);
  return found.sort();
}
