/**
 * The redaction processor: drops what the privacy tier excludes, pseudonymises user ids,
 * masks secrets, e-mails and home paths in every remaining string (attributes, nested
 * values, event and link attributes, span name, status message, resource attributes), and
 * records on each span what it did — counts by kind, never the values.
 */
import type { Processor } from '../../core/component.ts';
import type { AnyValue, KeyValue, Resource, Span, TracesData } from '../../core/otlp/model.ts';
import { anyValueToString, setAttribute } from '../../core/otlp/attributes.ts';
import { mapTraces } from '../../core/otlp/traces.ts';
import type { RedactionConfig } from './config.ts';
import { LearnedSecrets, SecretScanner, type KindCounts } from './detectors.ts';
import { Pseudonymizer } from './pseudonym.ts';
import { TierPolicy } from './tiers.ts';

export const ATTR_TIER = 'agentotel.redaction.tier';
export const ATTR_COUNT = 'agentotel.redaction.count';
export const ATTR_KINDS = 'agentotel.redaction.kinds';
export const ATTR_DROPPED = 'agentotel.redaction.dropped';

/** Traces whose learned secrets are remembered, and values per trace (oldest go first). */
const LEARNED_TRACES = 10_000;
const LEARNED_PER_TRACE = 200;

type Rewrite = (text: string) => string;

function rewriteValue(v: AnyValue | undefined, rewrite: Rewrite): AnyValue | undefined {
  if (!v) return v;
  if (v.stringValue !== undefined) return { stringValue: rewrite(v.stringValue) };
  if (v.arrayValue) return { arrayValue: { values: (v.arrayValue.values ?? []).map((x) => rewriteValue(x, rewrite) ?? {}) } };
  if (v.kvlistValue) return { kvlistValue: { values: (v.kvlistValue.values ?? []).map((kv) => ({ key: kv.key, value: rewriteValue(kv.value, rewrite) })) } };
  return v;
}

/** Every string of the span through `rewrite`, on the (already copied) span itself. */
function rewriteSpanStrings(span: Span, rewrite: Rewrite): void {
  const list = (attrs: KeyValue[] | undefined) => attrs?.map((kv) => ({ key: kv.key, value: rewriteValue(kv.value, rewrite) }));
  span.name = rewrite(span.name);
  span.attributes = list(span.attributes);
  span.events = span.events?.map((e) => ({ ...e, attributes: list(e.attributes) }));
  span.links = span.links?.map((l) => ({ ...l, attributes: list(l.attributes) }));
  if (span.status?.message) span.status = { ...span.status, message: rewrite(span.status.message) };
}

const formatKinds = (counts: KindCounts): string =>
  [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind}:${n}`)
    .join(',');

const total = (counts: KindCounts): number => [...counts.values()].reduce((a, b) => a + b, 0);

interface SpanReport {
  span: Span;
  counts: KindCounts;
  dropped: number;
}

export class RedactionProcessor implements Processor {
  private readonly scanner: SecretScanner;
  private readonly policy: TierPolicy;
  private readonly pseudonymized: Set<string>;
  private readonly pseudonymizer: Pseudonymizer;
  /** trace id -> secret value -> kind, least recently used first. */
  private readonly learned = new Map<string, Map<string, string>>();

  constructor(
    private readonly config: RedactionConfig,
    pseudonymKey: string,
  ) {
    this.scanner = new SecretScanner(config);
    this.policy = new TierPolicy(config.tier, config.contentKeys, config.toolDetailKeys);
    this.pseudonymized = new Set(config.pseudonymize.attributes);
    this.pseudonymizer = new Pseudonymizer(pseudonymKey);
  }

  processTraces(data: TracesData): TracesData {
    const reports: SpanReport[] = [];
    const out = mapTraces(
      data,
      (span) => {
        const report = this.redactSpan(span);
        reports.push(report);
        return report.span;
      },
      (resource) => this.redactResource(resource),
    );
    // A value learned anywhere in the trace (also in a later span of this message) is
    // redacted everywhere: the assistant may quote the password the tool output revealed.
    for (const r of reports) {
      const learned = this.learned.get(r.span.traceId);
      if (learned && learned.size > 0) {
        const known = new LearnedSecrets(learned);
        rewriteSpanStrings(r.span, (text) => known.redact(text, r.counts));
      }
      this.record(r);
    }
    return out;
  }

  private redactSpan(input: Span): SpanReport {
    const counts: KindCounts = new Map();
    const learned = this.learnedFor(input.traceId);
    let dropped = 0;
    const scan: Rewrite = (text) => this.scanner.redact(text, counts, learned);
    const filter = (attrs: KeyValue[] | undefined): KeyValue[] | undefined => {
      if (!attrs) return attrs;
      const kept = attrs.filter((kv) => !this.policy.drops(kv.key));
      dropped += attrs.length - kept.length;
      return kept.map((kv) => this.redactAttribute(kv, scan));
    };
    const span: Span = {
      ...input,
      name: scan(input.name),
      attributes: filter(input.attributes),
      events: input.events?.map((e) => ({ ...e, attributes: filter(e.attributes) })),
      links: input.links?.map((l) => ({ ...l, attributes: filter(l.attributes) })),
    };
    if (input.status?.message) span.status = { ...input.status, message: scan(input.status.message) };
    this.trimLearned(input.traceId, learned);
    return { span, counts, dropped };
  }

  private redactAttribute(kv: KeyValue, scan: Rewrite): KeyValue {
    if (this.pseudonymized.has(kv.key) && kv.value) {
      return { key: kv.key, value: { stringValue: this.pseudonymizer.pseudonym(anyValueToString(kv.value)) } };
    }
    return { key: kv.key, value: rewriteValue(kv.value, scan) };
  }

  /** Resource attributes: pseudonymised and scanned (no tier: they describe the agent, not content). */
  private redactResource(resource: Resource | undefined): Resource | undefined {
    if (!resource?.attributes) return resource;
    const counts: KindCounts = new Map();
    const scan: Rewrite = (text) => this.scanner.redact(text, counts, new Map());
    const attributes = resource.attributes.map((kv) => this.redactAttribute(kv, scan));
    if (counts.size > 0) {
      setAttribute(attributes, ATTR_COUNT, total(counts));
      setAttribute(attributes, ATTR_KINDS, formatKinds(counts));
    }
    return { ...resource, attributes };
  }

  private record({ span, counts, dropped }: SpanReport): void {
    span.attributes = setAttribute(span.attributes, ATTR_TIER, this.config.tier);
    setAttribute(span.attributes, ATTR_COUNT, total(counts));
    if (counts.size > 0) setAttribute(span.attributes, ATTR_KINDS, formatKinds(counts));
    if (dropped > 0) setAttribute(span.attributes, ATTR_DROPPED, dropped);
  }

  private learnedFor(traceId: string): Map<string, string> {
    let values = this.learned.get(traceId);
    if (values) this.learned.delete(traceId); // re-inserted below as most recently used
    else values = new Map();
    this.learned.set(traceId, values);
    if (this.learned.size > LEARNED_TRACES) this.learned.delete(this.learned.keys().next().value!);
    return values;
  }

  private trimLearned(traceId: string, values: Map<string, string>): void {
    while (values.size > LEARNED_PER_TRACE) values.delete(values.keys().next().value!);
    if (values.size === 0) this.learned.delete(traceId);
  }
}
