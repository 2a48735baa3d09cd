/**
 * What agentotel's own wiring adds to a hook besides the agent's payload (see `agentotel init`
 * and `agentotel hook`), for every agent alike:
 *   header X-Agentotel-Resource-Attributes   the agent's OTEL_RESOURCE_ATTRIBUTES (http hooks interpolate a copy of it)
 *   agentotel_resource_attributes            the same, from `agentotel hook` (survives its spool)
 *   agentotel_git                            local git context of the payload's cwd → vcs.* resource attributes
 *   agentotel_time_unix_nano                 when the hook ran: a spooled payload arrives late
 */
import { parseResourceAttributes } from '../../core/otlp/resource-attributes.ts';

export const RESOURCE_ATTRIBUTES_HEADER = 'x-agentotel-resource-attributes';

type Payload = Record<string, unknown>;

/** When the hook ran, if `agentotel hook` said so; else undefined (the receive time stands). */
export function hookTime(payload: Payload): bigint | undefined {
  const t = payload.agentotel_time_unix_nano;
  return typeof t === 'string' && /^[1-9][0-9]{0,19}$/.test(t) ? BigInt(t) : undefined;
}

const GIT_ATTRIBUTES: Record<string, string> = {
  repository_url: 'vcs.repository.url.full',
  branch: 'vcs.ref.head.name',
  commit: 'vcs.ref.head.revision',
  files_changed: 'agentotel.git.files_changed',
  insertions: 'agentotel.git.insertions',
  deletions: 'agentotel.git.deletions',
};

/** Resource attributes the wiring sent along: the agent's OTEL_RESOURCE_ATTRIBUTES and git context. */
export function hookResource(payload: Payload, header: string | string[] | undefined): Record<string, string | number> {
  const fromPayload = typeof payload.agentotel_resource_attributes === 'string' ? payload.agentotel_resource_attributes : undefined;
  const out: Record<string, string | number> = {
    ...parseResourceAttributes(Array.isArray(header) ? header.join(',') : header),
    ...parseResourceAttributes(fromPayload),
  };
  const git = payload.agentotel_git;
  if (git !== null && typeof git === 'object' && !Array.isArray(git)) {
    for (const [field, key] of Object.entries(GIT_ATTRIBUTES)) {
      const v = (git as Payload)[field];
      if ((typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v))) out[key] = v;
    }
  }
  return out;
}
