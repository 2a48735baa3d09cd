import type { Fields } from '../../core/config/fields.ts';
import type { ReconciliationConfig } from './span-pricer.ts';
import type { IdentityKeys } from './attributes-read.ts';

export interface EnrichmentConfig {
  /** The pricing table; relative paths resolve against the config file's directory. Unset: the bundled config/pricing.yaml. */
  pricingFile: string | undefined;
  /** The team mapping; relative like pricingFile. Unset: the bundled config/teams.yaml. */
  teamsFile: string | undefined;
  /** Traces (sessions) whose facts are remembered, least recently seen forgotten first. */
  maxTraces: number;
  reconciliation: ReconciliationConfig;
  attribution: {
    keys: IdentityKeys;
    /** The redaction processor's pseudonymisation key; unset: the key file it generated, if any. */
    pseudonymKey: string | undefined;
  };
}

export const DEFAULT_IDENTITY_KEYS: IdentityKeys = {
  team: ['team', 'team.id', 'team.name'],
  user: ['user.email', 'user.id', 'enduser.id'],
  department: ['department'],
  project: ['project'],
};

function optionalFile(fields: Fields, key: string): string | undefined {
  const file = fields.optionalString(key);
  if (file !== undefined && file.trim() === '') fields.fail(key, 'must not be empty');
  return file;
}

function keyList(fields: Fields, key: string, fallback: readonly string[]): string[] {
  const list = fields.stringList(key, [...fallback]);
  if (list.length === 0) fields.fail(key, 'must name at least one attribute');
  return list;
}

export function parseEnrichmentConfig(fields: Fields): EnrichmentConfig {
  const pricingFile = optionalFile(fields, 'pricing_file');
  const teamsFile = optionalFile(fields, 'teams_file');
  const maxTraces = fields.int('max_traces', 10_000, { min: 1 });

  const r = fields.object('reconciliation');
  const reconciliation = {
    driftThreshold: r.number('drift_threshold', 0.01, { min: 0 }),
    driftMinUsd: r.number('drift_min_usd', 0.0001, { min: 0 }),
  };
  r.done();

  const a = fields.object('attribution');
  const keys: IdentityKeys = {
    team: keyList(a, 'team_keys', DEFAULT_IDENTITY_KEYS.team),
    user: keyList(a, 'user_keys', DEFAULT_IDENTITY_KEYS.user),
    department: keyList(a, 'department_keys', DEFAULT_IDENTITY_KEYS.department),
    project: keyList(a, 'project_keys', DEFAULT_IDENTITY_KEYS.project),
  };
  // Empty (an unset ${env:…:-}) is no key.
  const pseudonymKey = a.optionalString('pseudonym_key') || undefined;
  if (pseudonymKey !== undefined && pseudonymKey.length < 16) a.fail('pseudonym_key', 'must be at least 16 characters');
  a.done();

  fields.done();
  return { pricingFile, teamsFile, maxTraces, reconciliation, attribution: { keys, pseudonymKey } };
}
