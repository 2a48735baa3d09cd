/**
 * What the processor reads of a span's or a resource's attributes — identity, git context,
 * working directory, what kind of span it is — in one pass over the list (every span is read;
 * a lookup per key would scan the list some thirty times).
 */
import { AgentSpanAttr, GenAiAttr } from '../../core/agent/genai.ts';
import { AgentAttr } from '../../core/agent/session-spans.ts';
import { anyValueToString } from '../../core/otlp/attributes.ts';
import type { KeyValue } from '../../core/otlp/model.ts';
import { CWD_KEYS, VCS_KEYS, type VcsKey } from './attributes.ts';

export type IdentityField = 'team' | 'user' | 'department' | 'project';

/** The attribute keys each identity field is read from, the first found winning. */
export type IdentityKeys = Record<IdentityField, readonly string[]>;

export type Identity = Partial<Record<IdentityField, string>>;

export interface AttributesRead {
  identity: Identity;
  git: Partial<Record<VcsKey, string>>;
  cwd?: string;
  spanKind?: string;
  agentId?: string;
  agentName?: string;
  operation?: string;
  /** gen_ai.usage.input_tokens or output_tokens is a number. */
  hasUsage: boolean;
  /** The agent reported a cost (agentotel.agent.cost_usd is a number). */
  hasAgentCost: boolean;
}

type Role =
  | { kind: 'identity'; field: IdentityField; rank: number }
  | { kind: 'git'; key: VcsKey }
  | { kind: 'cwd'; rank: number }
  | { kind: 'spanKind' | 'agentId' | 'agentName' | 'operation' | 'usage' | 'agentCost' };

const isNumber = (v: string) => v !== '' && Number.isFinite(Number(v));

export class AttributesReader {
  private readonly roles = new Map<string, Role>();

  constructor(identityKeys: IdentityKeys) {
    for (const [field, keys] of Object.entries(identityKeys) as [IdentityField, readonly string[]][]) {
      keys.forEach((key, rank) => this.roles.set(key, { kind: 'identity', field, rank }));
    }
    for (const key of VCS_KEYS) this.roles.set(key, { kind: 'git', key });
    CWD_KEYS.forEach((key, rank) => this.roles.set(key, { kind: 'cwd', rank }));
    this.roles.set(AgentAttr.spanKind, { kind: 'spanKind' });
    this.roles.set('gen_ai.agent.id', { kind: 'agentId' });
    this.roles.set(GenAiAttr.agentName, { kind: 'agentName' });
    this.roles.set(GenAiAttr.operationName, { kind: 'operation' });
    this.roles.set(GenAiAttr.inputTokens, { kind: 'usage' });
    this.roles.set(GenAiAttr.outputTokens, { kind: 'usage' });
    this.roles.set(AgentSpanAttr.agentCostUsd, { kind: 'agentCost' });
  }

  read(attrs: KeyValue[] | undefined): AttributesRead {
    const out: AttributesRead = { identity: {}, git: {}, hasUsage: false, hasAgentCost: false };
    const identityRank: Partial<Record<IdentityField, number>> = {};
    let cwdRank = Infinity;
    for (const kv of attrs ?? []) {
      const role = this.roles.get(kv.key);
      if (!role) continue;
      const v = anyValueToString(kv.value);
      if (v === '') continue;
      switch (role.kind) {
        case 'identity':
          if (role.rank < (identityRank[role.field] ?? Infinity)) {
            out.identity[role.field] = v;
            identityRank[role.field] = role.rank;
          }
          break;
        case 'git':
          out.git[role.key] = v;
          break;
        case 'cwd':
          if (role.rank < cwdRank) [out.cwd, cwdRank] = [v, role.rank];
          break;
        case 'usage':
          out.hasUsage ||= isNumber(v);
          break;
        case 'agentCost':
          out.hasAgentCost = isNumber(v);
          break;
        default:
          out[role.kind] = v;
      }
    }
    return out;
  }
}
