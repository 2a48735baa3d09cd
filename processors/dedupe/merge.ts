/**
 * The merge rules of the views of one span (README "Merge rules"). Each capture path — hooks,
 * the transcript, the agent's own telemetry — sends what it knows of a span under the same
 * ids (core/agent/session-spans.ts); a MergedSpan accumulates them, remembering for every
 * field the precedence of the view that supplied it, so that a view arriving later (in the
 * merge window, or after the span was written) is merged by the same rules.
 *
 * A view of several paths (a merged span read back from the output topic after a restart)
 * ranks as its best path for each field: merging it again with the views it was made of
 * changes nothing.
 */
import { AgentAttr, UNASSIGNED } from '../../core/agent/session-spans.ts';
import { getString, toAnyValue } from '../../core/otlp/attributes.ts';
import type { AnyValue, InstrumentationScope, KeyValue, Resource, Span, SpanEvent, SpanLink } from '../../core/otlp/model.ts';
import { StatusCode } from '../../core/otlp/model.ts';
import type { SpanContext } from '../../core/otlp/traces.ts';

/** Attribute precedence across paths: transcript > otel > hooks (an unknown path ranks last). */
const ATTRIBUTE_RANK: Record<string, number> = { hooks: 1, otel: 2, transcript: 3 };
/** Time precedence across paths: hooks > otel > transcript (hooks fire when it happens). */
const TIME_RANK: Record<string, number> = { transcript: 1, otel: 2, hooks: 3 };

/** Attributes the merge computes itself rather than takes from a view. */
const COMPUTED = new Set<string>([AgentAttr.capturePath, AgentAttr.timeKnown, AgentAttr.version]);

/** A value and the precedence of the view it came from. */
interface Ranked<T> {
  value: T;
  rank: number;
}

type Status = NonNullable<Span['status']>;

export interface MergedSpan {
  traceId: string;
  spanId: string;
  /** Capture paths merged so far. */
  paths: Set<string>;
  name?: Ranked<string>;
  parentSpanId?: Ranked<string>;
  kind?: Ranked<number>;
  traceState?: Ranked<string>;
  flags?: Ranked<number>;
  /** Times of views that know them (`agentotel.time.known`). */
  start?: Ranked<string>;
  end?: Ranked<string>;
  /** The times of the best view by attribute precedence, for when no view knows them. */
  fallbackTimes?: Ranked<{ start: string; end: string }>;
  attributes: Map<string, Ranked<AnyValue>>;
  resource: Map<string, Ranked<AnyValue>>;
  scope?: Ranked<InstrumentationScope | undefined>;
  status?: Ranked<Status>;
  /** By name, time and attributes: exact duplicates are one event. */
  events: Map<string, SpanEvent>;
  links: Map<string, SpanLink>;
  /** `agentotel.span.version` of the last write; 0 = never written. */
  version: number;
}

/** The capture paths of a span (`agentotel.capture.path`), or undefined for a foreign span. */
export function capturePaths(span: Span): string[] | undefined {
  const raw = getString(span.attributes, AgentAttr.capturePath);
  if (raw === undefined) return undefined;
  const paths = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return paths.length > 0 ? paths : undefined;
}

export function emptyMerge(traceId: string, spanId: string): MergedSpan {
  return { traceId, spanId, paths: new Set(), attributes: new Map(), resource: new Map(), events: new Map(), links: new Map(), version: 0 };
}

/** A copy that merging into leaves the original untouched (ranked values are never changed in place). */
export function cloneMerge(m: MergedSpan): MergedSpan {
  return {
    ...m,
    paths: new Set(m.paths),
    attributes: new Map(m.attributes),
    resource: new Map(m.resource),
    events: new Map(m.events),
    links: new Map(m.links),
  };
}

/** The merge of a span read back from the output topic: a view of its paths, at its version. */
export function mergeFromOutput(view: SpanContext, paths: string[]): MergedSpan {
  const m = emptyMerge(view.span.traceId, view.span.spanId);
  mergeView(m, view, paths);
  const version = Number(getString(view.span.attributes, AgentAttr.version));
  m.version = Number.isInteger(version) && version > 0 ? version : 1;
  return m;
}

/** A copy of `onto` (a span as written) with what `merged` (a merge of its own views) adds to it. */
export function mergeOnto(onto: MergedSpan, merged: MergedSpan): MergedSpan {
  const result = cloneMerge(onto);
  mergeView(result, mergedOutput(merged, merged.version), [...merged.paths]);
  return result;
}

const best = (paths: string[], ranks: Record<string, number>) => Math.max(...paths.map((p) => ranks[p] ?? 0));

/**
 * Merges a view into `m`. Returns whether anything changed (a value, or the precedence a
 * later view must beat); false = the view adds nothing.
 */
export function mergeView(m: MergedSpan, view: SpanContext, paths: string[]): boolean {
  const { span } = view;
  const rank = best(paths, ATTRIBUTE_RANK);
  const timeRank = best(paths, TIME_RANK);
  const known = getString(span.attributes, AgentAttr.timeKnown) ?? 'both';
  const merge = new Merger(rank);

  for (const p of paths) {
    if (m.paths.has(p)) continue;
    m.paths.add(p);
    merge.changed = true;
  }
  m.name = merge.take(m.name, span.name || undefined);
  m.parentSpanId = merge.take(m.parentSpanId, span.parentSpanId || undefined);
  m.kind = merge.take(m.kind, span.kind || undefined);
  m.traceState = merge.take(m.traceState, span.traceState || undefined);
  m.flags = merge.take(m.flags, span.flags || undefined);
  const times = new Merger(timeRank);
  // Views of one path that disagree on a time saw different moments (a resumed session starts
  // again): the span covers them all.
  if (known === 'start' || known === 'both') m.start = times.take(m.start, span.startTimeUnixNano, Object.is, earlier);
  if (known === 'end' || known === 'both') m.end = times.take(m.end, span.endTimeUnixNano, Object.is, later);
  // The fallback matters only while no view knows a time.
  const fallback = new Merger(rank);
  m.fallbackTimes = fallback.take(m.fallbackTimes, { start: span.startTimeUnixNano, end: span.endTimeUnixNano }, sameJson);
  if (!m.start && !m.end) times.changed ||= fallback.changed;
  for (const kv of span.attributes ?? []) if (!COMPUTED.has(kv.key)) merge.takeKey(m.attributes, kv);
  for (const kv of view.resource?.attributes ?? []) merge.takeKey(m.resource, kv);
  m.scope = merge.take(m.scope, view.scope, sameJson);
  m.status = mergeStatus(m.status, span.status, merge);
  for (const e of span.events ?? []) merge.add(m.events, JSON.stringify([e.name ?? '', e.timeUnixNano ?? '', e.attributes ?? []]), e);
  for (const l of span.links ?? []) merge.add(m.links, JSON.stringify([l.traceId, l.spanId, l.attributes ?? []]), l);
  return merge.changed || times.changed;
}

/** ERROR if any view says so (by precedence among them); otherwise the best view's OK. */
function mergeStatus(current: Ranked<Status> | undefined, status: Span['status'], merge: Merger): Ranked<Status> | undefined {
  const code = status?.code ?? StatusCode.UNSET;
  if (code === StatusCode.UNSET) return current;
  const isError = code === StatusCode.ERROR;
  const currentIsError = current?.value.code === StatusCode.ERROR;
  if (currentIsError && !isError) return current;
  if (isError && current && !currentIsError) current = undefined; // an error beats any OK
  return merge.take(current, status?.message ? { code, message: status.message } : { code }, sameJson);
}

/** Applies the precedence rule of one view and notes whether it changed anything. */
class Merger {
  changed = false;
  constructor(private readonly rank: number) {}

  /** The view's value if it is set and ranks at least as high (same rank: the later view wins). */
  take<T>(
    current: Ranked<T> | undefined,
    value: T | undefined,
    same: (a: T, b: T) => boolean = Object.is,
    /** Among views of one rank, whether `value` replaces `current` (default: the later view wins). */
    replaces: (value: T, current: T) => boolean = () => true,
  ): Ranked<T> | undefined {
    if (value === undefined || (current && current.rank > this.rank)) return current;
    if (current && current.rank === this.rank && (same(current.value, value) || !replaces(value, current.value))) return current;
    this.changed = true;
    return { value, rank: this.rank };
  }

  takeKey(map: Map<string, Ranked<AnyValue>>, kv: KeyValue): void {
    if (kv.value === undefined) return;
    let current = map.get(kv.key);
    // A placeholder ("no path could tell the team") never beats a real value, whatever its path.
    if (kv.value.stringValue === UNASSIGNED && current && current.value.stringValue !== UNASSIGNED) return;
    if (current?.value.stringValue === UNASSIGNED && kv.value.stringValue !== UNASSIGNED) current = undefined;
    if (kv.key === AgentAttr.redactionTier && current) {
      if (Number(current.value.intValue) >= Number(kv.value.intValue)) return;
      current = undefined;
    }
    const next = this.take(current, kv.value, sameJson);
    if (next !== current) map.set(kv.key, next!);
  }

  add<T>(map: Map<string, T>, key: string, value: T): void {
    if (map.has(key)) return;
    map.set(key, value);
    this.changed = true;
  }
}

const earlier = (value: string, current: string) => BigInt(value) < BigInt(current);
const later = (value: string, current: string) => BigInt(value) > BigInt(current);

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function timeKnown(m: MergedSpan): string {
  if (m.start && m.end) return 'both';
  return m.start ? 'start' : m.end ? 'end' : 'none';
}

/** Orders decimal nanosecond strings without parsing them (nothing here may throw on odd input). */
const compareTimes = (x: string, y: string) => x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
const byTime = (a: SpanEvent, b: SpanEvent) => compareTimes(a.timeUnixNano ?? '0', b.timeUnixNano ?? '0');

const keyValues = (map: Map<string, Ranked<AnyValue>>): KeyValue[] => [...map].map(([key, r]) => ({ key, value: r.value }));

export interface MergedOutput {
  resource: Resource;
  scope: InstrumentationScope | undefined;
  span: Span;
}

/** The merged span as written at `version`, with its resource and scope. */
export function mergedOutput(m: MergedSpan, version: number): MergedOutput {
  const start = m.start?.value ?? m.end?.value ?? m.fallbackTimes?.value.start ?? '0';
  let end = m.end?.value ?? (m.start ? start : (m.fallbackTimes?.value.end ?? start));
  if (compareTimes(end, start) < 0) end = start;
  const attributes = keyValues(m.attributes);
  attributes.push(
    { key: AgentAttr.capturePath, value: toAnyValue([...m.paths].sort().join(',')) },
    { key: AgentAttr.timeKnown, value: toAnyValue(timeKnown(m)) },
    { key: AgentAttr.version, value: toAnyValue(version) },
  );
  const span: Span = {
    traceId: m.traceId,
    spanId: m.spanId,
    name: m.name?.value ?? '',
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes,
  };
  if (m.parentSpanId) span.parentSpanId = m.parentSpanId.value;
  if (m.kind) span.kind = m.kind.value;
  if (m.traceState) span.traceState = m.traceState.value;
  if (m.flags) span.flags = m.flags.value;
  if (m.events.size > 0) span.events = [...m.events.values()].sort(byTime);
  if (m.links.size > 0) span.links = [...m.links.values()];
  if (m.status) span.status = m.status.value;
  return { resource: { attributes: keyValues(m.resource) }, scope: m.scope?.value, span };
}
