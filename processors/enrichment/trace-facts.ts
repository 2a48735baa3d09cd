/**
 * What the processor remembers of each trace (one agent session) across messages: who and
 * where (identity, git context, working directory) as any view of the session told it, the
 * subagents, and the cost computed for each model call (by span id: the views of one call,
 * a resumed session's repeated records and redeliveries all count once).
 */
import { BoundedMap } from '../../core/agent/bounded-map.ts';
import { getNumber, getString } from '../../core/otlp/attributes.ts';
import type { Resource, Span } from '../../core/otlp/model.ts';
import { EnrichAttr, type VcsKey } from './attributes.ts';
import type { AttributesRead, AttributesReader, Identity, IdentityField } from './attributes-read.ts';
import { isModelCall } from './span-pricer.ts';

const IDENTITY_FIELDS: readonly IdentityField[] = ['team', 'user', 'department', 'project'];

export interface Subagent {
  id: string;
  type?: string;
}

/** Model calls whose cost a trace remembers at most; beyond, its session total is not reconciled. */
export const MAX_CALLS_PER_TRACE = 5_000;

export class TraceFacts {
  readonly identity: Identity = {};
  readonly git: Partial<Record<VcsKey, string>> = {};
  cwd: string | undefined;
  /** Subagent span id → the subagent. */
  readonly subagents = new Map<string, Subagent>();
  /** Model-call span id → its cost; undefined: unpriced. */
  private readonly costs = new Map<string, number | undefined>();
  private overflow = false;

  /** What one span (and its resource) tell about the session: identity as first told, git context and cwd as last told, subagents. */
  learn(spanId: string, own: AttributesRead, resource: AttributesRead): void {
    for (const field of IDENTITY_FIELDS) this.identity[field] ??= resource.identity[field] ?? own.identity[field];
    Object.assign(this.git, resource.git, own.git);
    this.cwd = own.cwd ?? this.cwd;
    if (own.spanKind === 'subagent' && own.agentId) {
      this.subagents.set(spanId, { id: own.agentId, type: own.agentName ?? this.subagents.get(spanId)?.type });
    }
  }

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

export class TraceFactsStore {
  private readonly traces: BoundedMap<string, TraceFacts>;

  constructor(
    maxTraces: number,
    readonly reader: AttributesReader,
  ) {
    this.traces = new BoundedMap(maxTraces);
  }

  get(traceId: string): TraceFacts | undefined {
    return this.traces.get(traceId);
  }

  /** The trace's facts, created if new; the trace becomes the most recently seen (kept longest). */
  touch(traceId: string): TraceFacts {
    const facts = this.traces.get(traceId) ?? new TraceFacts();
    this.traces.set(traceId, facts);
    return facts;
  }

  /** Rebuilds a trace's facts from a span this processor wrote before (its output, replayed after a restart). */
  replay(span: Span, resource: Resource | undefined): void {
    const own = this.reader.read(span.attributes);
    const facts = this.touch(span.traceId);
    facts.learn(span.spanId, own, this.reader.read(resource?.attributes));
    if (!isModelCall(span.attributes)) return;
    const priced = getNumber(span.attributes, EnrichAttr.costUsd);
    if (priced !== undefined || getString(span.attributes, EnrichAttr.unpriced) === 'true') facts.setCost(span.spanId, priced);
  }
}
