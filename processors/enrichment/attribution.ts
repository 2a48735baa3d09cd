/**
 * Who a span is attributed to, first of:
 *   team        the span's resource/attributes · its session's other views · the user's mapping entry ·
 *               the repository's mapping entry · the mapping's default · "unassigned"
 *   user        the span's resource/attributes · its session's other views · "unassigned"
 *   project     the span's resource/attributes · its session's other views · the repository's mapping entry ·
 *               the repository's path (acme/api) · the working directory's name · the mapping's default · "unassigned"
 *   department  the span's resource/attributes · its session's other views · the user's mapping entry ·
 *               the mapping's default · (not set)
 */
import { UNASSIGNED } from '../../core/agent/session-spans.ts';
import { VCS_REPOSITORY } from './attributes.ts';
import { projectOfCwd, projectOfRepository, type TeamsMapping } from './teams.ts';
import type { IdentityField, TraceFacts } from './trace-facts.ts';

export interface Attribution {
  team: string;
  user: string;
  project: string;
  department: string | undefined;
}

export function attribute(
  own: Partial<Record<IdentityField, string>>,
  facts: TraceFacts | undefined,
  repository: string | undefined,
  mapping: TeamsMapping,
): Attribution {
  const known = (field: IdentityField) => own[field] ?? facts?.identity[field];
  const user = known('user');
  const userEntry = user !== undefined ? mapping.user(user) : undefined;
  const repo = repository ?? facts?.git[VCS_REPOSITORY];
  const repoEntry = repo !== undefined ? mapping.repository(repo) : undefined;
  const cwd = facts?.cwd;
  const { defaults } = mapping;
  return {
    team: known('team') ?? userEntry?.team ?? repoEntry?.team ?? defaults.team ?? UNASSIGNED,
    user: user ?? UNASSIGNED,
    project:
      known('project') ??
      repoEntry?.project ??
      (repo !== undefined ? projectOfRepository(repo) : undefined) ??
      (cwd !== undefined ? projectOfCwd(cwd) : undefined) ??
      defaults.project ??
      UNASSIGNED,
    department: known('department') ?? userEntry?.department ?? defaults.department,
  };
}
