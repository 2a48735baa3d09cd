/**
 * The enrichment processor: the USD cost of each model call (reconciled with the agent's own
 * figure where it reported one), the session total set against the agent's, and on every span
 * the team, user and project it is attributed to, its git context and its subagent.
 */
import type { Processor, ProcessorContext } from '../../core/component.ts';
import type { Counter } from '../../core/metrics.ts';
import { getString, setAttribute } from '../../core/otlp/attributes.ts';
import type { KeyValue, Resource, Span, TracesData } from '../../core/otlp/model.ts';
import { eachSpan, mapTraces } from '../../core/otlp/traces.ts';
import { EnrichAttr, VCS_KEYS, VCS_REPOSITORY } from './attributes.ts';
import { attribute } from './attribution.ts';
import { isModelCall, isReportedTotal, type SpanPricer } from './span-pricer.ts';
import type { TeamsMapping } from './teams.ts';
import type { TraceFactsStore } from './trace-facts.ts';

export interface EnrichmentMetrics {
  priced: Counter;
  unpriced: Counter;
  drift: Counter;
  labels: Record<string, string>;
}

export interface EnrichmentParts {
  pricer: SpanPricer;
  facts: TraceFactsStore;
  /** The team mapping (indexed by pseudonyms too once start() found the key). */
  mapping: TeamsMapping;
  metrics: EnrichmentMetrics;
  /** Warm-up before the first message (the redaction processor's key). */
  start?: () => void;
  recentOutput?: ProcessorContext['recentOutput'];
}

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
    // First what the whole message tells of its sessions, so that a session view is reconciled
    // with the model calls that came with it and views early in the message learn from later ones.
    const priced = new Map<Span, KeyValue[]>();
    for (const { span, resource } of eachSpan(data)) {
      const trace = facts.learn(span, resource);
      if (!isModelCall(span.attributes)) continue;
      const attrs = [...(span.attributes ?? [])];
      const usd = pricer.priceModelCall(attrs, span.startTimeUnixNano);
      trace.setCost(span.spanId, usd);
      priced.set(span, attrs);
      (usd === undefined ? metrics.unpriced : metrics.priced).inc(metrics.labels);
    }
    return mapTraces(data, (span, resource) => this.enrich(span, resource, priced.get(span)));
  }

  private enrich(input: Span, resource: Resource | undefined, priced: KeyValue[] | undefined): Span {
    const { facts, pricer, metrics } = this.parts;
    const attributes = priced ?? [...(input.attributes ?? [])];
    const trace = facts.get(input.traceId);
    const r = resource?.attributes;

    const repository = getString(input.attributes, VCS_REPOSITORY) || getString(r, VCS_REPOSITORY) || undefined;
    const who = attribute(facts.identityOf(input, resource), trace, repository, this.parts.mapping);
    setAttribute(attributes, EnrichAttr.team, who.team);
    setAttribute(attributes, EnrichAttr.user, who.user);
    setAttribute(attributes, EnrichAttr.project, who.project);
    if (who.department !== undefined) setAttribute(attributes, EnrichAttr.department, who.department);

    for (const key of VCS_KEYS) {
      if (getString(input.attributes, key)) continue;
      const v = getString(r, key) || trace?.git[key];
      if (v) setAttribute(attributes, key, v);
    }

    const subagent = input.parentSpanId ? trace?.subagents.get(input.parentSpanId) : undefined;
    if (subagent) {
      setAttribute(attributes, EnrichAttr.subagentId, subagent.id);
      if (subagent.type) setAttribute(attributes, EnrichAttr.subagentType, subagent.type);
    }

    const total = isReportedTotal(input.attributes) ? trace?.total() : undefined;
    if (total) pricer.reconcileTotal(attributes, total.usd, total.unpriced);
    if (getString(attributes, EnrichAttr.drift) === 'true') metrics.drift.inc(metrics.labels);

    // Copy, then assign: a spread literal adding a field the input lacks takes V8's slow path.
    const span = { ...input };
    span.attributes = attributes;
    return span;
  }
}
