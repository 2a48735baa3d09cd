/**
 * Who a span is attributed to. `known` is what the span's resource, its own attributes and the
 * other views of its session told (in that order); then the teams file:
 *   team        known · the user's mapping entry · the repository's entry · defaults.team · "unassigned"
 *   user        known · "unassigned"
 *   project     known · the repository's entry · the repository's path (acme/api) · the working
 *               directory's name · defaults.project · "unassigned"
 *   department  known · the user's entry · defaults.department · (not set)
 */
import { UNASSIGNED } from '../../core/agent/session-spans.ts';
import type { Identity } from './attributes-read.ts';
import { projectOfCwd, projectOfRepository, type RepositoryEntry, type TeamsMapping } from './teams.ts';

export interface Attribution {
  team: string;
  user: string;
  project: string;
  department: string | undefined;
}

/** Repositories and directories whose reading is remembered (all of them are cleared when full). */
const MEMO_SIZE = 1_000;

function memo<V>(map: Map<string, V>, key: string, compute: (key: string) => V): V {
  if (map.has(key)) return map.get(key)!;
  if (map.size >= MEMO_SIZE) map.clear();
  const v = compute(key);
  map.set(key, v);
  return v;
}

export class Attributor {
  // Every span is attributed; the repositories and directories of a session are few, their normalisation not free.
  private readonly repositories = new Map<string, { entry?: RepositoryEntry; project?: string }>();
  private readonly directories = new Map<string, string | undefined>();

  constructor(readonly mapping: TeamsMapping) {}

  attribute(known: Identity, repository: string | undefined, cwd: string | undefined): Attribution {
    const userEntry = known.user !== undefined ? this.mapping.user(known.user) : undefined;
    const repo =
      repository === undefined
        ? undefined
        : memo(this.repositories, repository, (url) => ({ entry: this.mapping.repository(url), project: projectOfRepository(url) }));
    const { defaults } = this.mapping;
    return {
      team: known.team ?? userEntry?.team ?? repo?.entry?.team ?? defaults.team ?? UNASSIGNED,
      user: known.user ?? UNASSIGNED,
      project:
        known.project ??
        repo?.entry?.project ??
        repo?.project ??
        (cwd !== undefined ? memo(this.directories, cwd, projectOfCwd) : undefined) ??
        defaults.project ??
        UNASSIGNED,
      department: known.department ?? userEntry?.department ?? defaults.department,
    };
  }
}
