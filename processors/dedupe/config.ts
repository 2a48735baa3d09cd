import type { Fields } from '../../core/config/fields.ts';

export interface DedupeConfig {
  /** How long a span identity is remembered after its trace was last seen (ms). */
  windowMs: number;
  /** Span identities remembered at most; the least recently seen traces go first. */
  maxEntries: number;
}

export function parseDedupeConfig(fields: Fields): DedupeConfig {
  const windowMs = fields.duration('window', 3_600_000);
  if (windowMs <= 0) fields.fail('window', 'must be longer than 0');
  const maxEntries = fields.int('max_entries', 1_000_000, { min: 1 });
  fields.done();
  return { windowMs, maxEntries };
}
