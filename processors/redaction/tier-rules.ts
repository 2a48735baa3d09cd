/**
 * The tier of a span: the first configured rule its team, user and agent match, else the
 * default. A rule about a team or user the span does not name (a transcript line carries no
 * team; the team came with another span of the session) cannot be ruled out, so it counts
 * too: the span gets the lowest tier of the rules it may fall under up to the first one it
 * surely matches. A session is never stored with more than its team's tier allows, whichever
 * capture path's view of a span arrives first.
 */
import type { KeyValue } from '../../core/otlp/model.ts';
import { anyValueToString } from '../../core/otlp/attributes.ts';
import type { PrivacyTier, TierRule } from './config.ts';
import type { Pseudonymizer } from '../../core/pseudonym.ts';

/** Who a span belongs to, as far as its attributes (and its trace's other spans) tell. */
export interface Identity {
  team?: string;
  users: string[];
  agent?: string;
}

export const TEAM_KEYS = ['team', 'team.name', 'agentotel.team'];
export const USER_KEYS = ['user.email', 'user.id', 'user.name', 'user.account_uuid', 'user.account_id', 'enduser.id', 'agentotel.user'];
/** The resource's service.name names the agent (gen_ai.agent.name of a subagent span is its type). */
const AGENT_KEYS = ['service.name', 'gen_ai.agent.name'];

/** The identity told by attribute lists, the first list that has a field winning. */
export function identityOf(...lists: (KeyValue[] | undefined)[]): Identity {
  const identity: Identity = { users: [] };
  for (const attrs of lists) {
    for (const kv of attrs ?? []) {
      if (identity.team === undefined && TEAM_KEYS.includes(kv.key)) identity.team = anyValueToString(kv.value);
      else if (identity.agent === undefined && AGENT_KEYS.includes(kv.key)) identity.agent = anyValueToString(kv.value);
      else if (USER_KEYS.includes(kv.key)) identity.users.push(anyValueToString(kv.value));
    }
  }
  return identity;
}

type Verdict = 'yes' | 'no' | 'maybe';

interface CompiledRule {
  rule: TierRule;
  /** The rule's user as configured and as pseudonymised (spans may already carry the pseudonym). */
  users: Set<string>;
}

export class TierSelector {
  private readonly rules: CompiledRule[];

  constructor(
    rules: TierRule[],
    private readonly fallback: PrivacyTier,
    pseudonymizer: Pseudonymizer,
  ) {
    this.rules = rules.map((rule) => ({
      rule,
      users: new Set(rule.user === undefined ? [] : [rule.user, pseudonymizer.pseudonym(rule.user)]),
    }));
  }

  get hasRules(): boolean {
    return this.rules.length > 0;
  }

  tierFor(identity: Identity): PrivacyTier {
    let tier = this.fallback;
    let possible: PrivacyTier = 3;
    for (const r of this.rules) {
      const verdict = this.matches(r, identity);
      if (verdict === 'yes') {
        tier = r.rule.tier;
        break;
      }
      if (verdict === 'maybe') possible = Math.min(possible, r.rule.tier) as PrivacyTier;
    }
    return Math.min(tier, possible) as PrivacyTier;
  }

  private matches({ rule, users }: CompiledRule, identity: Identity): Verdict {
    const checks: Verdict[] = [];
    if (rule.agent !== undefined) checks.push(identity.agent === undefined ? 'maybe' : identity.agent === rule.agent ? 'yes' : 'no');
    if (rule.team !== undefined) checks.push(identity.team === undefined ? 'maybe' : identity.team === rule.team ? 'yes' : 'no');
    if (rule.user !== undefined)
      checks.push(identity.users.length === 0 ? 'maybe' : identity.users.some((u) => users.has(u)) ? 'yes' : 'no');
    if (checks.includes('no')) return 'no';
    return checks.includes('maybe') ? 'maybe' : 'yes';
  }
}
