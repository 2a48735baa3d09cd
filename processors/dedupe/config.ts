import type { Fields } from '../../core/config/fields.ts';

export interface DedupeConfig {
  /** How long a span is remembered after its trace was last seen (ms). */
  windowMs: number;
  /** Spans remembered at most; the least recently seen traces go first. */
  maxEntries: number;
  /** How long the first view of an agent span waits for the other paths' views (ms). */
  mergeWindowMs: number;
}

export function parseDedupeConfig(fields: Fields): DedupeConfig {
  const windowMs = fields.duration('window', 3_600_000);
  if (windowMs <= 0) fields.fail('window', 'must be longer than 0');
  const maxEntries = fields.int('max_entries', 1_000_000, { min: 1 });
  const mergeWindowMs = fields.duration('merge_window', 10_000);
  if (mergeWindowMs <= 0) fields.fail('merge_window', 'must be longer than 0');
  if (mergeWindowMs >= windowMs) fields.fail('merge_window', 'must be shorter than window');
  fields.done();
  return { windowMs, maxEntries, mergeWindowMs };
}
