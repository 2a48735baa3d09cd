/**
 * The enrichment processor: the USD cost of each model call (reconciled with the agent's own
 * figure where it reported one), the session total set against the agent's, and on every span
 * the team, user and project it is attributed to, its git context and its subagent.
 */
import type { Processor, ProcessorContext } from '../../core/component.ts';
import type { Counter } from '../../core/metrics.ts';
import { setAttribute } from '../../core/otlp/attributes.ts';
import type { KeyValue, Resource, Span, TracesData } from '../../core/otlp/model.ts';
import { eachSpan, mapTraces } from '../../core/otlp/traces.ts';
import { EnrichAttr, VCS_KEYS, VCS_REPOSITORY } from './attributes.ts';
import type { AttributesRead, Identity } from './attributes-read.ts';
import type { Attributor } from './attribution.ts';
import { isModelCallOperation, type SpanPricer } from './span-pricer.ts';
import type { TraceFacts, TraceFactsStore } from './trace-facts.ts';

export interface EnrichmentMetrics {
  priced: Counter;
  unpriced: Counter;
  drift: Counter;
  labels: Record<string, string>;
}

export interface EnrichmentParts {
  pricer: SpanPricer;
  facts: TraceFactsStore;
  /** Attribution by the team mapping (indexed by pseudonyms too once start() found the key). */
  attributor: Attributor;
  metrics: EnrichmentMetrics;
  /** Warm-up before the first message (the redaction processor's key). */
  start?: () => void;
  recentOutput?: ProcessorContext['recentOutput'];
}

/** What the first pass over a message found of one span. */
interface Read {
  own: AttributesRead;
  resource: AttributesRead;
  facts: TraceFacts;
  /** The priced attribute list of a model call. */
  priced?: KeyValue[];
  /** The model call's cost drifts from the agent's own figure. */
  drift?: boolean;
}

const IDENTITY_FIELDS = ['team', 'user', 'department', 'project'] as const;

export class EnrichmentProcessor implements Processor {
  constructor(private readonly parts: EnrichmentParts) {}

  async start(): Promise<void> {
    this.parts.start?.();
  }

  /**
   * Partitions this worker gets (at start, after a rebalance): the facts of their sessions (costs,
   * identity, subagents) are rebuilt from what was written to them recently, by this worker or another.
   */
  async assign(partitions: number[]): Promise<void> {
    if (!this.parts.recentOutput || partitions.length === 0) return;
    for await (const { value } of this.parts.recentOutput({ partitions })) {
      for (const { span, resource } of eachSpan(value)) this.parts.facts.replay(span, resource);
    }
  }

  processTraces(data: TracesData): TracesData {
    const { pricer, facts, metrics } = this.parts;
    const { reader } = facts;
    // First what the whole message tells of its sessions, so that a session view is reconciled
    // with the model calls that came with it and views early in the message learn from later ones.
    const resources = new Map<Resource | undefined, AttributesRead>();
    const traces = new Map<string, TraceFacts>();
    const reads = new Map<Span, Read>();
    let pricedCalls = 0;
    let unpricedCalls = 0;
    for (const { span, resource } of eachSpan(data)) {
      let res = resources.get(resource);
      if (!res) resources.set(resource, (res = reader.read(resource?.attributes)));
      let trace = traces.get(span.traceId);
      if (!trace) traces.set(span.traceId, (trace = facts.touch(span.traceId)));
      const own = reader.read(span.attributes);
      trace.learn(span.spanId, own, res);
      const read: Read = { own, resource: res, facts: trace };
      if (isModelCallOperation(own.operation) && own.hasUsage) {
        read.priced = [...(span.attributes ?? [])];
        const { usd, drift } = pricer.priceModelCall(read.priced, span.startTimeUnixNano);
        read.drift = drift;
        trace.setCost(span.spanId, usd);
        if (usd === undefined) unpricedCalls++;
        else pricedCalls++;
      }
      reads.set(span, read);
    }
    if (pricedCalls > 0) metrics.priced.inc(metrics.labels, pricedCalls);
    if (unpricedCalls > 0) metrics.unpriced.inc(metrics.labels, unpricedCalls);
    let drifted = 0;
    const out = mapTraces(data, (span) => {
      const enriched = this.enrich(span, reads.get(span)!);
      if (enriched.drift) drifted++;
      return enriched.span;
    });
    if (drifted > 0) metrics.drift.inc(metrics.labels, drifted);
    return out;
  }

  private enrich(input: Span, { own, resource, facts, priced, drift }: Read): { span: Span; drift: boolean } {
    const { pricer, attributor } = this.parts;
    const attributes = priced ?? [...(input.attributes ?? [])];

    const known: Identity = {};
    for (const field of IDENTITY_FIELDS) known[field] = resource.identity[field] ?? own.identity[field] ?? facts.identity[field];
    const repository = own.git[VCS_REPOSITORY] ?? resource.git[VCS_REPOSITORY] ?? facts.git[VCS_REPOSITORY];
    const who = attributor.attribute(known, repository, facts.cwd);
    setAttribute(attributes, EnrichAttr.team, who.team);
    setAttribute(attributes, EnrichAttr.user, who.user);
    setAttribute(attributes, EnrichAttr.project, who.project);
    if (who.department !== undefined) setAttribute(attributes, EnrichAttr.department, who.department);

    for (const key of VCS_KEYS) {
      if (own.git[key]) continue;
      const v = resource.git[key] ?? facts.git[key];
      if (v) setAttribute(attributes, key, v);
    }

    const subagent = input.parentSpanId ? facts.subagents.get(input.parentSpanId) : undefined;
    if (subagent) {
      setAttribute(attributes, EnrichAttr.subagentId, subagent.id);
      if (subagent.type) setAttribute(attributes, EnrichAttr.subagentType, subagent.type);
    }

    // A span other than a model call that carries the agent's own cost holds a session total.
    const total = own.hasAgentCost && !priced ? facts.total() : undefined;
    const totalDrifts = total !== undefined && pricer.reconcileTotal(attributes, total.usd, total.unpriced);

    // Copy, then assign: a spread literal adding a field the input lacks takes V8's slow path.
    const span = { ...input };
    span.attributes = attributes;
    return { span, drift: drift === true || totalDrifts };
  }
}
