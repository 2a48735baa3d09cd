import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, Fields } from '../../core/config/fields.ts';
import { redactionProcessorFactory } from './index.ts';

const parseAt = (raw: unknown) => redactionProcessorFactory.parseConfig(new Fields(raw, 'processors.redaction'));
const testdata = (name: string) => parse(readFileSync(new URL(`testdata/${name}`, import.meta.url), 'utf8')) as unknown;

describe('redaction config', () => {
  it('parses testdata/valid.yaml', () => {
    const config = parseAt(testdata('valid.yaml'));
    expect(config.tier).toBe(3);
    expect(config.tierRules).toEqual([
      { team: 'payments', tier: 1 },
      { user: 'ana@example.com', agent: 'claude-code', tier: 2 },
    ]);
    expect(config.contentKeys).toEqual(['llm.prompts.*', 'chat.transcript']);
    expect(config.patterns).toEqual([
      { name: 'internal_ticket', regex: 'SEC-[0-9]{4,}' },
      { name: 'employee_id', regex: 'employee_id=(?<secret>E[0-9]{6})' },
    ]);
    expect(config.disabledDetectors).toEqual(['home_path']);
    expect(config.pseudonymize.attributes).toEqual(['user.id', 'user.email', 'enduser.id']);
  });

  it('rejects testdata/invalid.yaml naming the key', () => {
    expect(() => parseAt(testdata('invalid.yaml'))).toThrow(
      new ConfigError('processors.redaction.tier_rules[0].tier', 'must be one of 1, 2, 3 (got 4)'),
    );
  });

  it('fills the defaults', () => {
    const config = parseAt(undefined);
    expect(config.tier).toBe(2);
    expect(config.tierRules).toEqual([]);
    expect(config.pseudonymize.key).toBeUndefined();
    expect(config.pseudonymize.attributes).toContain('user.email');
  });

  it('takes an empty key (an unset ${env:…:-}) as none', () => {
    expect(parseAt({ pseudonymize: { key: '' } }).pseudonymize.key).toBeUndefined();
  });

  it.each([
    [{ tier: 4 }, 'processors.redaction.tier: must be one of 1, 2, 3 (got 4)'],
    [{ tier_rules: { team: 'a' } }, 'processors.redaction.tier_rules: must be a list'],
    [{ tier_rules: [{ team: 'a' }] }, 'processors.redaction.tier_rules[0].tier: is required'],
    [{ tier_rules: [{ tier: 1 }] }, 'processors.redaction.tier_rules[0]: needs at least one of team, user, agent'],
    [{ tier_rules: [{ team: 'a', tier: 1, project: 'x' }] }, 'processors.redaction.tier_rules[0].project: unknown key'],
    [{ patterns: [{ name: 'x', regex: '(' }] }, 'processors.redaction.patterns[0].regex: is not a valid regular expression'],
    [{ patterns: [{ name: 'x', regex: '(a)\\1' }] }, 'processors.redaction.patterns[0].regex: must not use numbered back references'],
    [{ patterns: [{ name: 'Bad Name', regex: 'x' }] }, 'processors.redaction.patterns[0].name: must be lowercase'],
    [{ patterns: [{ regex: 'x' }] }, 'processors.redaction.patterns[0].name: is required'],
    [{ patterns: 'x' }, 'processors.redaction.patterns: must be a list'],
    [{ allow: ['ok', '['] }, 'processors.redaction.allow[1]: is not a valid regular expression'],
    [{ disabled_detectors: ['emails'] }, 'processors.redaction.disabled_detectors: unknown detector "emails"'],
    [{ pseudonymize: { key: 'short' } }, 'processors.redaction.pseudonymize.key: must be at least 16 characters (got 5)'],
    [{ pseudonymize: { keys: ['user.id'] } }, 'processors.redaction.pseudonymize.keys: unknown key'],
    [{ teir: 1 }, 'processors.redaction.teir: unknown key'],
  ])('rejects %j', (raw, message) => {
    expect(() => parseAt(raw)).toThrow(message);
  });

  it('never puts the pseudonym key itself into an error', () => {
    expect(() => parseAt({ pseudonymize: { key: 'hunter2-secret' } })).toThrow(/got 14\)$/);
  });
});
