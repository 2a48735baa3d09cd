/** The attributes the enrichment processor writes (README.md lists when each is set). */
export const EnrichAttr = {
  // model calls
  costUsd: 'agentotel.cost.usd',
  unpriced: 'agentotel.cost.unpriced',
  usageInconsistent: 'agentotel.cost.usage_inconsistent',
  pricingVersion: 'agentotel.pricing.version',
  pricingModel: 'agentotel.pricing.model',
  pricingFrom: 'agentotel.pricing.effective_from',
  pricingTier: 'agentotel.pricing.tier',
  // reconciliation with the agent's own figure (model calls and sessions)
  driftUsd: 'agentotel.cost.drift_usd',
  drift: 'agentotel.cost.drift',
  // sessions
  computedUsd: 'agentotel.cost.computed_usd',
  unpricedCalls: 'agentotel.cost.unpriced_calls',
  // every span
  team: 'agentotel.team',
  user: 'agentotel.user',
  project: 'agentotel.project',
  department: 'agentotel.department',
  // spans of a subagent
  subagentId: 'agentotel.subagent.id',
  subagentType: 'agentotel.subagent.type',
} as const;

/** Git context copied onto every span (OTel VCS conventions). */
export const VCS_KEYS = ['vcs.repository.url.full', 'vcs.ref.head.name', 'vcs.ref.head.revision'] as const;
export type VcsKey = (typeof VCS_KEYS)[number];
export const VCS_REPOSITORY: VcsKey = 'vcs.repository.url.full';

/** Where capture paths put the session's working directory (transcripts, hooks). */
export const CWD_KEYS = ['agentotel.session.cwd', 'agentotel.cwd'] as const;
