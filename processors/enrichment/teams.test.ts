import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/config/fields.ts';
import { Pseudonymizer } from '../../core/pseudonym.ts';
import { BUNDLED_TEAMS_FILE } from './index.ts';
import { loadTeamsMapping, normalizeRepository, parseTeamsMapping, projectOfCwd, projectOfRepository } from './teams.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const mapping = () => loadTeamsMapping(path.join(here, 'testdata', 'teams.yaml'), 'k');

describe('teams mapping', () => {
  it('maps users and e-mails (any case) to team and department, the shorthand to a team', () => {
    const m = mapping();
    expect(m.user('ana@example.com')).toEqual({ team: 'payments', department: 'finance' });
    expect(m.user('Ana@Example.com')).toEqual({ team: 'payments', department: 'finance' });
    expect(m.user('bob@example.com')).toEqual({ team: 'platform' });
    expect(m.user('eve@example.com')).toBeUndefined();
    expect(m.defaults).toEqual({ department: 'engineering' });
  });

  it('finds users by the pseudonym the redaction processor gives them, with its key', () => {
    const key = 'k'.repeat(32);
    const anon = new Pseudonymizer(key).pseudonym('ana@example.com');
    expect(mapping().user(anon)).toBeUndefined();
    expect(mapping().withPseudonymKey(key).user(anon)).toEqual({ team: 'payments', department: 'finance' });
  });

  it('maps repositories in any URL form, exactly or by org prefix (the longest first)', () => {
    const m = mapping();
    for (const url of [
      'https://github.com/acme/payments-api',
      'https://user:[REDACTED:url_credentials]@GitHub.com/Acme/payments-api.git',
      'git@github.com:acme/payments-api.git',
      'ssh://git@github.com:22/acme/payments-api/',
    ]) {
      expect(m.repository(url), url).toEqual({ project: 'payments-api', team: 'payments' });
    }
    expect(m.repository('git@github.com:acme/infra.git')).toEqual({ team: 'platform' });
    expect(m.repository('https://github.com/acmeco/x')).toBeUndefined();
  });

  it('derives a project from a repository path or a working directory', () => {
    expect(normalizeRepository('git@gitlab.example.com:group/sub/repo.git')).toBe('gitlab.example.com/group/sub/repo');
    expect(projectOfRepository('https://github.com/acme/api.git')).toBe('acme/api');
    expect(projectOfRepository('https://github.com')).toBeUndefined();
    expect(projectOfCwd('~/projects/hello-node/')).toBe('hello-node');
    expect(projectOfCwd('C:\\Users\\ana\\src\\api')).toBe('api');
  });

  it('the bundled file maps nothing', () => {
    const m = loadTeamsMapping(BUNDLED_TEAMS_FILE, 'k');
    expect(m.hasUsers).toBe(false);
    expect(m.defaults).toEqual({});
  });

  it.each([
    [{ users: { a: {} } }, 'users.a: must name team or department'],
    [{ users: { a: { team: 'x', role: 'y' } } }, 'users.a.role: unknown key'],
    [{ repositories: { r: ['x'] } }, 'repositories.r: must be a mapping (got a list)'],
    [{ defaults: { owner: 'x' } }, 'defaults.owner: unknown key'],
    [{ teams: {} }, 'teams: unknown key'],
  ])('rejects %j naming the key', (doc, msg) => expect(() => parseTeamsMapping(doc)).toThrow(new ConfigError('', msg).message));

  it('names the config key and the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'teams-'));
    writeFileSync(path.join(dir, 'bad.yaml'), 'users: { a: 7 }\n');
    expect(() => loadTeamsMapping(path.join(dir, 'bad.yaml'), 'processors.enrichment.teams_file')).toThrow(
      `processors.enrichment.teams_file: ${path.join(dir, 'bad.yaml')}: users.a: must be a mapping (got 7)`,
    );
    expect(() => loadTeamsMapping(path.join(dir, 'none.yaml'), 'processors.enrichment.teams_file')).toThrow(
      'processors.enrichment.teams_file: cannot read teams file',
    );
  });
});
