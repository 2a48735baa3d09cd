/**
 * What the processor remembers of each trace (one agent session) across messages: who and
 * where (identity, git context, working directory) as any view of the session told it, the
 * subagents, and the cost computed for each model call (by span id: the views of one call,
 * a resumed session's repeated records and redeliveries all count once).
 */
import { BoundedMap } from '../../core/agent/bounded-map.ts';
import { AgentAttr } from '../../core/agent/session-spans.ts';
import { getNumber, getString } from '../../core/otlp/attributes.ts';
import type { KeyValue, Resource, Span } from '../../core/otlp/model.ts';
import { CWD_KEYS, EnrichAttr, VCS_KEYS, type VcsKey } from './attributes.ts';
import { isModelCall } from './span-pricer.ts';

export type IdentityField = 'team' | 'user' | 'department' | 'project';

/** The attribute keys each identity field is read from (resource first, then the span). */
export type IdentityKeys = Record<IdentityField, readonly string[]>;

export interface Subagent {
  id: string;
  type?: string;
}

/** Model calls whose cost a trace remembers at most; beyond, its session total is not reconciled. */
export const MAX_CALLS_PER_TRACE = 5_000;

export class TraceFacts {
  readonly identity: Partial<Record<IdentityField, string>> = {};
  readonly git: Partial<Record<VcsKey, string>> = {};
  cwd: string | undefined;
  /** Subagent span id → the subagent. */
  readonly subagents = new Map<string, Subagent>();
  /** Model-call span id → its cost; undefined: unpriced. */
  private readonly costs = new Map<string, number | undefined>();
  private overflow = false;

  setCost(spanId: string, usd: number | undefined): void {
    if (!this.costs.has(spanId) && this.costs.size >= MAX_CALLS_PER_TRACE) this.overflow = true;
    else this.costs.set(spanId, usd);
  }

  /** The sum of the model calls' costs, or undefined when the trace had more calls than remembered. */
  total(): { usd: number; unpriced: number } | undefined {
    if (this.overflow) return undefined;
    let usd = 0;
    let unpriced = 0;
    for (const c of this.costs.values()) {
      if (c === undefined) unpriced++;
      else usd += c;
    }
    return { usd, unpriced };
  }
}

const firstOf = (keys: readonly string[], ...lists: (KeyValue[] | undefined)[]): string | undefined => {
  for (const attrs of lists) {
    for (const key of keys) {
      const v = getString(attrs, key);
      if (v) return v;
    }
  }
  return undefined;
};

export class TraceFactsStore {
  private readonly traces: BoundedMap<string, TraceFacts>;

  constructor(
    maxTraces: number,
    private readonly identityKeys: IdentityKeys,
  ) {
    this.traces = new BoundedMap(maxTraces);
  }

  get(traceId: string): TraceFacts | undefined {
    return this.traces.get(traceId);
  }

  /** The identity a span's own resource and attributes tell (resource first). */
  identityOf(span: Span, resource: Resource | undefined): Partial<Record<IdentityField, string>> {
    const out: Partial<Record<IdentityField, string>> = {};
    for (const field of Object.keys(this.identityKeys) as IdentityField[]) {
      const v = firstOf(this.identityKeys[field], resource?.attributes, span.attributes);
      if (v) out[field] = v;
    }
    return out;
  }

  /** Learns what one span and its resource tell about its trace; returns the trace's facts. */
  learn(span: Span, resource: Resource | undefined): TraceFacts {
    let facts = this.traces.get(span.traceId);
    if (!facts) facts = new TraceFacts();
    this.traces.set(span.traceId, facts); // the newest: traces seen recently are kept
    for (const [field, v] of Object.entries(this.identityOf(span, resource))) facts.identity[field as IdentityField] ??= v;
    for (const key of VCS_KEYS) {
      const v = firstOf([key], span.attributes, resource?.attributes);
      if (v) facts.git[key] = v;
    }
    facts.cwd = firstOf(CWD_KEYS, span.attributes) ?? facts.cwd;
    if (getString(span.attributes, AgentAttr.spanKind) === 'subagent') {
      const id = getString(span.attributes, 'gen_ai.agent.id');
      if (id)
        facts.subagents.set(span.spanId, {
          id,
          type: getString(span.attributes, 'gen_ai.agent.name') ?? facts.subagents.get(span.spanId)?.type,
        });
    }
    return facts;
  }

  /** Rebuilds a trace's facts from a span this processor wrote before (its output, replayed after a restart). */
  replay(span: Span, resource: Resource | undefined): void {
    const facts = this.learn(span, resource);
    if (!isModelCall(span.attributes)) return;
    const priced = getNumber(span.attributes, EnrichAttr.costUsd);
    if (priced !== undefined || getString(span.attributes, EnrichAttr.unpriced) === 'true') facts.setCost(span.spanId, priced);
  }
}
