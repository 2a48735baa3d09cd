/**
 * The redaction processor. For each span (and log record):
 *   1. its privacy tier, from its team, user and agent (tier-rules.ts);
 *   2. attributes the tier excludes are dropped (tiers.ts): on the span, its events and links,
 *      its resource, and keys nested in map values; a tool call's status message is its output;
 *   3. user ids are pseudonymised (pseudonym.ts);
 *   4. every remaining string (attribute values, nested ones too, span and event names, status
 *      message, log bodies, resource attributes) goes through the secret scanner (scanner.ts),
 *      and through the values the trace revealed earlier (trace-state.ts);
 *   5. what was done is recorded on it: the tier, counts by kind, never a value.
 * The input message is never modified (a bus redelivers it after a failure): a new one is returned.
 */
import { AgentAttr } from '../../core/agent/session-spans.ts';
import type { Processor } from '../../core/component.ts';
import type { MetricsRegistry } from '../../core/metrics.ts';
import type { AnyValue, KeyValue, LogRecord, LogsData, Resource, Span, TracesData } from '../../core/otlp/model.ts';
import { anyValueToString, getString, setAttribute } from '../../core/otlp/attributes.ts';
import { eachSpan, mapTraces } from '../../core/otlp/traces.ts';
import type { PrivacyTier, RedactionConfig } from './config.ts';
import { Pseudonymizer } from '../../core/pseudonym.ts';
import { countKind, SecretScanner, type KindCounts } from './scanner.ts';
import { TraceState, TraceStates } from './trace-state.ts';
import { identityOf, TierSelector } from './tier-rules.ts';
import { TierPolicy } from './tiers.ts';

export const ATTR_TIER = AgentAttr.redactionTier;
export const ATTR_COUNT = 'agentotel.redaction.count';
export const ATTR_KINDS = 'agentotel.redaction.kinds';
export const ATTR_DROPPED = 'agentotel.redaction.dropped';

const MAX_CACHED_LENGTH = 128;
const MAX_CACHED_STRINGS = 50_000;

/** A value the processor cannot walk: the message goes to the dead letters. The message names where, never the value. */
export class RedactionInputError extends Error {
  override name = 'RedactionInputError';
}

/** The redaction of one span, log record or resource: its tier, and what was done. */
class Redaction {
  readonly counts: KindCounts = new Map();
  dropped = 0;

  constructor(
    readonly tier: PrivacyTier,
    readonly trace: TraceState,
    /** Where in the message, for errors: "span 1a2b…", "resource", "log record 3". */
    readonly where: string,
  ) {}
}

const formatKinds = (counts: KindCounts): string =>
  [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind}:${n}`)
    .join(',');

function total(counts: KindCounts): number {
  let n = 0;
  for (const c of counts.values()) n += c;
  return n;
}

const newTally = () => ({ items: new Map<PrivacyTier, number>(), kinds: new Map() as KindCounts, dropped: new Map<PrivacyTier, number>() });

const isToolCall = (span: Span): boolean =>
  getString(span.attributes, 'gen_ai.operation.name') === 'execute_tool' ||
  getString(span.attributes, 'agentotel.span.kind') === 'tool_call';

export class RedactionProcessor implements Processor {
  private readonly scanner: SecretScanner;
  private readonly policy: TierPolicy;
  private readonly tiers: TierSelector;
  private readonly pseudonymized: Set<string>;
  private readonly pseudonymizer: Pseudonymizer;
  private readonly traces = new TraceStates();
  /** Short strings known to hold nothing to redact: metadata values repeat on every span. */
  private readonly clean = new Set<string>();
  /** This message's counts, added to the metrics once per message (a labelled increment is not free). */
  private tally = newTally();
  private readonly metrics: {
    items: ReturnType<MetricsRegistry['counter']>;
    redactions: ReturnType<MetricsRegistry['counter']>;
    dropped: ReturnType<MetricsRegistry['counter']>;
  };

  constructor(config: RedactionConfig, pseudonymKey: string, metrics: MetricsRegistry) {
    this.scanner = new SecretScanner(config);
    this.policy = new TierPolicy(config.contentKeys, config.toolDetailKeys);
    this.pseudonymizer = new Pseudonymizer(pseudonymKey);
    this.tiers = new TierSelector(config.tierRules, config.tier, this.pseudonymizer);
    this.pseudonymized = new Set(config.pseudonymize.attributes);
    // Labels are tiers and detector kinds: never a value.
    this.metrics = {
      items: metrics.counter('agentotel_redaction_items_total', 'Spans and log records redacted, by privacy tier applied'),
      redactions: metrics.counter('agentotel_redaction_redactions_total', 'Values redacted, by kind'),
      dropped: metrics.counter('agentotel_redaction_dropped_attributes_total', 'Attributes dropped by the privacy tier'),
    };
  }

  processTraces(data: TracesData): TracesData {
    this.tally = newTally();
    // The tier of every span first: a resource is redacted at the lowest tier of its spans.
    const spanTiers = new Map<Span, PrivacyTier>();
    const resourceTiers = new Map<Resource | undefined, PrivacyTier>();
    for (const { resource, span } of eachSpan(data)) {
      const tier = this.tierOf(span.traceId, span.attributes, resource?.attributes);
      spanTiers.set(span, tier);
      resourceTiers.set(resource, Math.min(tier, resourceTiers.get(resource) ?? 3) as PrivacyTier);
    }
    const redactions: [Span, Redaction][] = [];
    const out = mapTraces(
      data,
      (span) => {
        const r = new Redaction(spanTiers.get(span)!, this.traces.get(span.traceId), `span ${span.spanId}`);
        const redacted = this.redactSpan(span, r);
        redactions.push([redacted, r]);
        return redacted;
      },
      (resource) => this.redactResource(resource, resourceTiers.get(resource) ?? this.tierOf('', undefined, resource?.attributes)),
    );
    // A value learned anywhere in the trace (also in a later span of this message) is redacted
    // everywhere: the assistant may quote the password that the tool output revealed.
    for (const [span, r] of redactions) {
      if (r.trace.learned.size > 0) this.rewriteStrings(span, (text) => r.trace.redactLearned(text, r.counts));
      this.report(span.attributes!, r);
    }
    this.flushTally();
    return out;
  }

  /** Log records the same way (the agents' events that became no span: Gemini's carry prompts). */
  processLogs(data: LogsData): LogsData {
    this.tally = newTally();
    const out = {
      resourceLogs: (data.resourceLogs ?? []).map((rl) => {
        const records = (rl.scopeLogs ?? []).flatMap((sl) => sl.logRecords ?? []);
        const tiers = new Map(records.map((rec) => [rec, this.tierOf(rec.traceId ?? '', rec.attributes, rl.resource?.attributes)]));
        const resourceTier =
          records.length > 0 ? (Math.min(...tiers.values()) as PrivacyTier) : this.tierOf('', undefined, rl.resource?.attributes);
        return {
          ...rl,
          resource: this.redactResource(rl.resource, resourceTier),
          scopeLogs: (rl.scopeLogs ?? []).map((sl) => ({
            ...sl,
            logRecords: (sl.logRecords ?? []).map((rec, i) =>
              this.redactLogRecord(
                rec,
                new Redaction(tiers.get(rec)!, this.stateOf(rec.traceId), `log record ${i} of scope ${sl.scope?.name ?? ''}`),
              ),
            ),
          })),
        };
      }),
    };
    this.flushTally();
    return out;
  }

  private stateOf(traceId: string | undefined): TraceState {
    return traceId ? this.traces.get(traceId) : new TraceState();
  }

  /** The tier of a span or record; who the trace belongs to is remembered for its later spans. */
  private tierOf(traceId: string, attributes: KeyValue[] | undefined, resource: KeyValue[] | undefined): PrivacyTier {
    if (!this.tiers.hasRules) return this.tiers.tierFor({ users: [] });
    const identity = identityOf(attributes, resource);
    if (traceId) {
      const state = this.traces.get(traceId);
      if (identity.team !== undefined) state.team = identity.team;
      else identity.team = state.team;
      if (identity.users.length > 0) state.users = identity.users;
      else identity.users = state.users;
    }
    return this.tiers.tierFor(identity);
  }

  private redactSpan(input: Span, r: Redaction): Span {
    const span: Span = { ...input };
    span.name = this.scan(input.name, r);
    span.attributes = this.redactAttributes(input.attributes ?? [], r);
    if (input.events)
      span.events = input.events.map((e) => ({
        ...e,
        name: e.name && this.scan(e.name, r),
        attributes: e.attributes && this.redactAttributes(e.attributes, r),
      }));
    if (input.links) span.links = input.links.map((l) => ({ ...l, attributes: l.attributes && this.redactAttributes(l.attributes, r) }));
    if (input.status?.message) {
      // A failed tool call's status message is its error output.
      if (r.tier < 3 && isToolCall(input)) {
        span.status = { code: input.status.code };
        r.dropped++;
      } else {
        span.status = { ...input.status, message: this.scan(input.status.message, r) };
      }
    }
    return span;
  }

  private redactLogRecord(input: LogRecord, r: Redaction): LogRecord {
    const record: LogRecord = { ...input, attributes: this.redactAttributes(input.attributes ?? [], r) };
    if (input.body) record.body = this.redactValue(input.body, r, 'body');
    if (r.trace.learned.size > 0) this.rewriteLogStrings(record, r);
    this.report(record.attributes!, r);
    return record;
  }

  private rewriteLogStrings(record: LogRecord, r: Redaction): void {
    const rewrite = (text: string) => r.trace.redactLearned(text, r.counts);
    record.attributes = record.attributes?.map((kv) => ({ key: kv.key, value: rewriteValue(kv.value, rewrite) }));
    if (record.body) record.body = rewriteValue(record.body, rewrite);
  }

  /** Resource attributes: the tier's keys, pseudonyms and secrets, counted on the resource. */
  private redactResource(resource: Resource | undefined, tier: PrivacyTier): Resource | undefined {
    if (!resource?.attributes) return resource;
    const r = new Redaction(tier, new TraceState(), 'resource');
    const attributes = this.redactAttributes(resource.attributes, r);
    if (r.counts.size > 0 || r.dropped > 0) {
      setAttribute(attributes, ATTR_COUNT, total(r.counts));
      if (r.counts.size > 0) setAttribute(attributes, ATTR_KINDS, formatKinds(r.counts));
      if (r.dropped > 0) setAttribute(attributes, ATTR_DROPPED, r.dropped);
    }
    this.count(r);
    return { ...resource, attributes };
  }

  /** A new list: the attributes the tier keeps, each pseudonymised or scanned (dropped ones counted). */
  private redactAttributes(attrs: KeyValue[], r: Redaction): KeyValue[] {
    if (!Array.isArray(attrs)) throw new RedactionInputError(`${r.where}: attributes must be a list`);
    const kept: KeyValue[] = [];
    for (const kv of attrs) {
      if (this.policy.drops(kv.key, r.tier)) r.dropped++;
      else kept.push(this.redactAttribute(kv, r));
    }
    return kept;
  }

  private redactAttribute(kv: KeyValue, r: Redaction): KeyValue {
    if (kv.value === undefined) return kv;
    if (this.pseudonymized.has(kv.key))
      return { key: kv.key, value: { stringValue: this.pseudonymizer.pseudonym(anyValueToString(kv.value)) } };
    const value = this.redactValue(kv.value, r, kv.key);
    return value === kv.value ? kv : { key: kv.key, value };
  }

  /** The value with every string scanned and nested keys under the tier's rules; the same object when nothing changed. */
  private redactValue(v: AnyValue, r: Redaction, key: string): AnyValue {
    if (typeof v !== 'object' || v === null) throw this.inputError(r, key, 'the value is not an AnyValue');
    if (v.stringValue !== undefined) {
      if (typeof v.stringValue !== 'string') throw this.inputError(r, key, 'stringValue is not a string');
      const text = this.scan(v.stringValue, r);
      return text === v.stringValue ? v : { stringValue: text };
    }
    if (v.arrayValue !== undefined) {
      const values = v.arrayValue.values ?? [];
      if (!Array.isArray(values)) throw this.inputError(r, key, 'arrayValue.values is not a list');
      return { arrayValue: { values: values.map((x) => this.redactValue(x, r, key)) } };
    }
    if (v.kvlistValue !== undefined) {
      const values = v.kvlistValue.values ?? [];
      if (!Array.isArray(values)) throw this.inputError(r, key, 'kvlistValue.values is not a list');
      return { kvlistValue: { values: this.redactAttributes(values, r) } };
    }
    if (v.bytesValue !== undefined) {
      // Bytes may be text: scanned as UTF-8, and kept as they are unless something was redacted.
      const text = Buffer.from(v.bytesValue, 'base64').toString('utf8');
      const scanned = this.scan(text, r);
      return scanned === text ? v : { stringValue: scanned };
    }
    return v;
  }

  /** An error naming where the bad value is: the span or record and the attribute key (scanned too: a key may hold anything). */
  private inputError(r: Redaction, key: string, problem: string): RedactionInputError {
    const safeKey = this.scanner.redact(key, new Map(), new Map());
    return new RedactionInputError(`${r.where}: attribute ${JSON.stringify(safeKey)}: ${problem}`);
  }

  private scan(text: string, r: Redaction): string {
    const short = text.length <= MAX_CACHED_LENGTH;
    if (short && this.clean.has(text)) return text;
    const out = this.scanner.redact(text, r.counts, r.trace.learned);
    if (short && out === text) {
      if (this.clean.size >= MAX_CACHED_STRINGS) this.clean.clear();
      this.clean.add(text);
    }
    return out;
  }

  /** Every string of the span (after the first pass) through `rewrite`. */
  private rewriteStrings(span: Span, rewrite: (text: string) => string): void {
    const list = (attrs: KeyValue[] | undefined) => attrs?.map((kv) => ({ key: kv.key, value: rewriteValue(kv.value, rewrite) }));
    span.name = rewrite(span.name);
    span.attributes = list(span.attributes);
    span.events = span.events?.map((e) => ({ ...e, name: e.name && rewrite(e.name), attributes: list(e.attributes) }));
    span.links = span.links?.map((l) => ({ ...l, attributes: list(l.attributes) }));
    if (span.status?.message) span.status = { ...span.status, message: rewrite(span.status.message) };
  }

  private report(attributes: KeyValue[], r: Redaction): void {
    setAttribute(attributes, ATTR_TIER, r.tier);
    setAttribute(attributes, ATTR_COUNT, total(r.counts));
    if (r.counts.size > 0) setAttribute(attributes, ATTR_KINDS, formatKinds(r.counts));
    if (r.dropped > 0) setAttribute(attributes, ATTR_DROPPED, r.dropped);
    this.tally.items.set(r.tier, (this.tally.items.get(r.tier) ?? 0) + 1);
    this.count(r);
  }

  private count(r: Redaction): void {
    for (const [kind, n] of r.counts) countKind(this.tally.kinds, kind, n);
    if (r.dropped > 0) this.tally.dropped.set(r.tier, (this.tally.dropped.get(r.tier) ?? 0) + r.dropped);
  }

  private flushTally(): void {
    for (const [tier, n] of this.tally.items) this.metrics.items.inc({ tier: String(tier) }, n);
    for (const [kind, n] of this.tally.kinds) this.metrics.redactions.inc({ kind }, n);
    for (const [tier, n] of this.tally.dropped) this.metrics.dropped.inc({ tier: String(tier) }, n);
  }
}

/** The value with every string through `rewrite`; an unchanged value is returned as it is. */
function rewriteValue(v: AnyValue | undefined, rewrite: (text: string) => string): AnyValue | undefined {
  if (!v) return v;
  if (v.stringValue !== undefined) {
    const text = rewrite(v.stringValue);
    return text === v.stringValue ? v : { stringValue: text };
  }
  if (v.arrayValue) return { arrayValue: { values: (v.arrayValue.values ?? []).map((x) => rewriteValue(x, rewrite) ?? {}) } };
  if (v.kvlistValue)
    return { kvlistValue: { values: (v.kvlistValue.values ?? []).map((kv) => ({ key: kv.key, value: rewriteValue(kv.value, rewrite) })) } };
  return v;
}
