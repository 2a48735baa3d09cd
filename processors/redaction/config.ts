import { Fields } from '../../core/config/fields.ts';
import { BUILTIN_DETECTOR_NAMES } from './detectors.ts';

export type PrivacyTier = 1 | 2 | 3;
export const TIERS = [1, 2, 3] as const;

/** A tier for the spans of a team, a user or an agent (all the given fields must match). */
export interface TierRule {
  team?: string;
  /** Matched against the span's user attributes, raw or already pseudonymised. */
  user?: string;
  agent?: string;
  tier: PrivacyTier;
}

export interface CustomPattern {
  /** The kind recorded in `[REDACTED:<name>]` and in the counts. */
  name: string;
  regex: string;
}

export interface RedactionConfig {
  /** The tier of spans no rule matches: 1 = metadata only, 2 = + tool details, 3 = full content. */
  tier: PrivacyTier;
  /** First match wins. */
  tierRules: TierRule[];
  /** Prompt, response and tool output attributes, kept at tier 3 only; added to the built-in list. */
  contentKeys: string[];
  /** Tool argument attributes (commands, paths, diffs), kept from tier 2; added to the built-in list. */
  toolDetailKeys: string[];
  patterns: CustomPattern[];
  /** Regexes: a detected value that matches one of them is kept. */
  allow: string[];
  disabledDetectors: string[];
  pseudonymize: {
    /** HMAC key; when absent (or empty), a random key is kept in the processor's data directory. */
    key: string | undefined;
    attributes: string[];
  };
}

export const DEFAULT_PSEUDONYMIZED_ATTRIBUTES = [
  'user.id',
  'user.email',
  'user.name',
  'user.account_uuid',
  'user.account_id',
  'enduser.id',
];
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
    // The patterns share one regex with the built-in detectors: group numbers shift there.
    if (/\\[1-9]/.test(regex)) entry.fail('regex', 'must not use numbered back references (\\1); name the group: (?<x>…) and \\k<x>');
    entry.done();
    return { name, regex };
  });
}

function parseTierRules(fields: Fields): TierRule[] {
  const raw = fields.raw('tier_rules');
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) fields.fail('tier_rules', 'must be a list of {team, user, agent, tier}');
  return raw.map((item, i) => {
    const entry = new Fields(item, fields.at(`tier_rules[${i}]`));
    if (!entry.has('tier')) entry.fail('tier', 'is required');
    const rule: TierRule = { tier: entry.oneOf('tier', TIERS, 2) };
    for (const field of ['team', 'user', 'agent'] as const) {
      const value = entry.optionalString(field);
      if (value !== undefined) rule[field] = value;
    }
    if (rule.team === undefined && rule.user === undefined && rule.agent === undefined) {
      fields.fail(`tier_rules[${i}]`, 'needs at least one of team, user, agent');
    }
    entry.done();
    return rule;
  });
}

export function parseRedactionConfig(fields: Fields): RedactionConfig {
  const tier = fields.oneOf('tier', TIERS, 2);
  const tierRules = parseTierRules(fields);
  const contentKeys = fields.stringList('content_keys');
  const toolDetailKeys = fields.stringList('tool_detail_keys');
  const patterns = parsePatterns(fields);
  const allow = fields.stringList('allow');
  allow.forEach((source, i) => compiles(fields, `allow[${i}]`, source));
  const disabledDetectors = fields.stringList('disabled_detectors');
  for (const name of disabledDetectors) {
    if (!BUILTIN_DETECTOR_NAMES.includes(name)) {
      fields.fail('disabled_detectors', `unknown detector ${JSON.stringify(name)} (known: ${BUILTIN_DETECTOR_NAMES.join(', ')})`);
    }
  }

  const p = fields.object('pseudonymize');
  const key = p.optionalString('key') || undefined;
  // The message names the key's length, never its value.
  if (key !== undefined && key.length < MIN_KEY_LENGTH) p.fail('key', `must be at least ${MIN_KEY_LENGTH} characters (got ${key.length})`);
  const attributes = p.stringList('attributes', DEFAULT_PSEUDONYMIZED_ATTRIBUTES);
  p.done();
  fields.done();
  return { tier, tierRules, contentKeys, toolDetailKeys, patterns, allow, disabledDetectors, pseudonymize: { key, attributes } };
}
