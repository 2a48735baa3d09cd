/**
 * The team mapping file (config/teams.yaml): user or e-mail → team (and department),
 * repository → project (and team), and the defaults for what neither names.
 *
 * The redaction processor runs first and replaces user ids and e-mails by pseudonyms
 * (`anon_` + HMAC-SHA256(key, value), 32 hex). Given the same key, users listed here by
 * e-mail are also found by their pseudonym.
 */
import { Pseudonymizer } from '../../core/pseudonym.ts';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError, Fields } from '../../core/config/fields.ts';

export interface UserEntry {
  team?: string;
  department?: string;
}

export interface RepositoryEntry {
  project?: string;
  team?: string;
}

export interface Defaults {
  team?: string;
  project?: string;
  department?: string;
}

/**
 * A repository as a key: host and path, lower case, without scheme, credentials, port or `.git`:
 * https://user:pw@GitHub.com/Acme/API.git, git@github.com:acme/api.git, ssh://git@github.com/acme/api → github.com/acme/api.
 */
export function normalizeRepository(url: string): string {
  return url
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/^[^@/]*@/, '')
    .replace(/^([^/:]+):(?!\d+\/)/, '$1/')
    .replace(/^([^/:]+):\d+\//, '$1/')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
}

/** The project a repository names when the mapping does not: its path (acme/api), else undefined. */
export function projectOfRepository(url: string): string | undefined {
  const path = normalizeRepository(url).split('/').slice(1).join('/');
  return path || undefined;
}

/** The project a working directory names: its last segment. */
export function projectOfCwd(cwd: string): string | undefined {
  return (
    cwd
      .replace(/[/\\]+$/, '')
      .split(/[/\\]/)
      .pop() || undefined
  );
}

export class TeamsMapping {
  private readonly users = new Map<string, UserEntry>();
  private readonly exact = new Map<string, RepositoryEntry>();
  /** `host/org/*` entries, longest prefix first. */
  private readonly prefixes: { prefix: string; entry: RepositoryEntry }[] = [];

  constructor(
    readonly defaults: Defaults,
    users: Map<string, UserEntry>,
    repositories: Map<string, RepositoryEntry>,
  ) {
    for (const [id, entry] of users) {
      this.users.set(id, entry);
      this.users.set(id.toLowerCase(), entry);
    }
    for (const [pattern, entry] of repositories) {
      if (pattern.endsWith('/*')) this.prefixes.push({ prefix: normalizeRepository(pattern.slice(0, -2)) + '/', entry });
      else this.exact.set(normalizeRepository(pattern), entry);
    }
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get hasUsers(): boolean {
    return this.users.size > 0;
  }

  /** Indexes every user also by its pseudonym under `key` (as the redaction processor writes it). */
  withPseudonymKey(key: string): this {
    const pseudonymizer = new Pseudonymizer(key);
    for (const [id, entry] of [...this.users]) this.users.set(pseudonymizer.pseudonym(id), entry);
    return this;
  }

  user(id: string): UserEntry | undefined {
    return this.users.get(id) ?? this.users.get(id.toLowerCase());
  }

  repository(url: string): RepositoryEntry | undefined {
    const key = normalizeRepository(url);
    return this.exact.get(key) ?? this.prefixes.find((p) => key.startsWith(p.prefix))?.entry;
  }
}

/** A value that is a name, or `{key: name, …}` of `keys`. */
function entry<K extends string>(f: Fields, id: string, shorthand: K, keys: readonly K[]): Partial<Record<K, string>> {
  const raw = f.raw(id);
  if (typeof raw === 'string') return { [shorthand]: raw } as Partial<Record<K, string>>;
  const e = f.object(id);
  const out: Partial<Record<K, string>> = {};
  for (const k of keys) {
    const v = e.optionalString(k);
    if (v !== undefined) out[k] = v;
  }
  e.done();
  if (Object.keys(out).length === 0) f.fail(id, `must name ${keys.join(' or ')}`);
  return out;
}

export function parseTeamsMapping(doc: unknown): TeamsMapping {
  const f = new Fields(doc, '');
  const d = f.object('defaults');
  const defaults: Defaults = {
    team: d.optionalString('team'),
    project: d.optionalString('project'),
    department: d.optionalString('department'),
  };
  d.done();
  const u = f.object('users');
  const users = new Map(u.keys().map((id) => [id, entry(u, id, 'team', ['team', 'department'] as const)]));
  u.done();
  const r = f.object('repositories');
  const repositories = new Map(r.keys().map((pattern) => [pattern, entry(r, pattern, 'project', ['project', 'team'] as const)]));
  r.done();
  f.done();
  return new TeamsMapping(defaults, users, repositories);
}

/** Reads and validates a teams file; errors name `configKey`, the file and the key inside it. */
export function loadTeamsMapping(file: string, configKey: string): TeamsMapping {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(configKey, `cannot read teams file ${file}: ${(err as Error).message}`);
  }
  try {
    return parseTeamsMapping(parse(text));
  } catch (err) {
    throw new ConfigError(configKey, `${file}: ${(err as Error).message}`);
  }
}
