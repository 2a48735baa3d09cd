/**
 * Pseudonymous user ids: HMAC-SHA256 under a key the operator holds, so the same user maps
 * to the same id across sessions (joins and per-user rollups still work) while the id
 * cannot be reversed or recomputed without the key.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const PREFIX = 'anon_';
const PSEUDONYM = /^anon_[0-9a-f]{32}$/;
export const KEY_FILE = 'pseudonym.key';

export class Pseudonymizer {
  constructor(private readonly key: string) {}

  /** Idempotent: a value that already is a pseudonym is returned as it is. */
  pseudonym(value: string): string {
    if (PSEUDONYM.test(value)) return value;
    return PREFIX + createHmac('sha256', this.key).update(value).digest('hex').slice(0, 32);
  }
}

/**
 * The configured key, or one generated once and kept in the processor's data directory (so
 * pseudonyms stay stable across restarts of one instance; several instances need the
 * configured key to agree).
 */
export function pseudonymKey(configured: string | undefined, dataDir: string): string {
  if (configured !== undefined) return configured;
  const file = path.join(dataDir, KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another instance sharing the directory wrote it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(file, 'utf8').trim();
}
