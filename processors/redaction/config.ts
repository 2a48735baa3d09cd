import { Fields } from '../../core/config/fields.ts';
import { BUILTIN_DETECTOR_NAMES as BUILTIN_KINDS } from './detectors.ts';

export type PrivacyTier = 1 | 2 | 3;

export interface CustomPattern {
  /** The kind recorded in `[REDACTED:<name>]` and in the counts. */
  name: string;
  regex: string;
}

export interface RedactionConfig {
  /** 1 = metadata only, 2 = + tool details (scanned), 3 = full content (scanned). */
  tier: PrivacyTier;
  /** Prompt/response attributes dropped below tier 3, added to the built-in list. */
  contentKeys: string[];
  /** Tool argument/result attributes dropped at tier 1, added to the built-in list. */
  toolDetailKeys: string[];
  patterns: CustomPattern[];
  /** Regexes: a detected value that matches one of them is kept. */
  allow: string[];
  disabledDetectors: string[];
  pseudonymize: {
    /** HMAC key; when absent, a random key is kept in the processor's data directory. */
    key: string | undefined;
    attributes: string[];
  };
}

export const DEFAULT_PSEUDONYMIZED_ATTRIBUTES = ['user.id', 'user.email', 'user.name', 'user.account_uuid', 'user.account_id', 'enduser.id'];
const KIND_NAME = /^[a-z][a-z0-9_]*$/;
const MIN_KEY_LENGTH = 16;

function compiles(fields: Fields, key: string, source: string): void {
  try {
    new RegExp(source);
  } catch (err) {
    fields.fail(key, `is not a valid regular expression: ${(err as Error).message}`);
  }
}

function parsePatterns(fields: Fields): CustomPattern[] {
  const raw = fields.raw('patterns');
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) fields.fail('patterns', 'must be a list of {name, regex}');
  return raw.map((item, i) => {
    const entry = new Fields(item, fields.at(`patterns[${i}]`));
    const name = entry.string('name');
    if (!KIND_NAME.test(name)) entry.fail('name', `must be lowercase letters, digits and _ (got ${JSON.stringify(name)})`);
    const regex = entry.string('regex');
    compiles(entry, 'regex', regex);
    entry.done();
    return { name, regex };
  });
}

export function parseRedactionConfig(fields: Fields): RedactionConfig {
  const tier = fields.oneOf('tier', [1, 2, 3] as const, 2);
  const contentKeys = fields.stringList('content_keys');
  const toolDetailKeys = fields.stringList('tool_detail_keys');
  const patterns = parsePatterns(fields);
  const allow = fields.stringList('allow');
  allow.forEach((source, i) => compiles(fields, `allow[${i}]`, source));
  const known = new Set([...BUILTIN_KINDS]);
  const disabledDetectors = fields.stringList('disabled_detectors');
  for (const kind of disabledDetectors) {
    if (!known.has(kind)) fields.fail('disabled_detectors', `unknown detector ${JSON.stringify(kind)} (known: ${[...known].join(', ')})`);
  }

  const p = fields.object('pseudonymize');
  const key = p.optionalString('key');
  // The message names the key's length, never its value.
  if (key !== undefined && key.length < MIN_KEY_LENGTH) p.fail('key', `must be at least ${MIN_KEY_LENGTH} characters (got ${key.length})`);
  const attributes = p.stringList('attributes', DEFAULT_PSEUDONYMIZED_ATTRIBUTES);
  p.done();
  fields.done();
  return { tier, contentKeys, toolDetailKeys, patterns, allow, disabledDetectors, pseudonymize: { key, attributes } };
}
