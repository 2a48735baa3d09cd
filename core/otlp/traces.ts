/** Walking and regrouping the spans of a TracesData message. */
import type { Resource, InstrumentationScope, Span, TracesData } from './model.ts';

export interface SpanContext {
  resource: Resource | undefined;
  scope: InstrumentationScope | undefined;
  span: Span;
}

export function* eachSpan(data: TracesData): Generator<SpanContext> {
  for (const rs of data.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) yield { resource: rs.resource, scope: ss.scope, span };
    }
  }
}

export function countSpans(data: TracesData): number {
  let n = 0;
  for (const rs of data.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  return n;
}

/** Keeps the spans for which `keep` is true, dropping scopes and resources left empty. */
export function filterSpans(data: TracesData, keep: (span: Span) => boolean): TracesData {
  const resourceSpans = (data.resourceSpans ?? [])
    .map((rs) => ({
      ...rs,
      scopeSpans: (rs.scopeSpans ?? []).map((ss) => ({ ...ss, spans: (ss.spans ?? []).filter(keep) })).filter((ss) => ss.spans.length > 0),
    }))
    .filter((rs) => rs.scopeSpans.length > 0);
  return { resourceSpans };
}

/**
 * Splits a request into one TracesData per trace id, keeping each span under its own
 * resource and scope: the unit of a bus message (key = trace id), as the Collector's Kafka
 * exporter does with partition_traces_by_id.
 */
export function splitByTrace(data: TracesData): Map<string, TracesData> {
  const out = new Map<string, TracesData>();
  for (const rs of data.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        let td = out.get(span.traceId);
        if (!td) out.set(span.traceId, (td = { resourceSpans: [] }));
        let r = td.resourceSpans!.find((x) => x.resource === rs.resource && x.schemaUrl === rs.schemaUrl);
        if (!r) td.resourceSpans!.push((r = { resource: rs.resource, schemaUrl: rs.schemaUrl, scopeSpans: [] }));
        let s = r.scopeSpans!.find((x) => x.scope === ss.scope && x.schemaUrl === ss.schemaUrl);
        if (!s) r.scopeSpans!.push((s = { scope: ss.scope, schemaUrl: ss.schemaUrl, spans: [] }));
        s.spans!.push(span);
      }
    }
  }
  return out;
}

/**
 * A copy of the message with every resource and span replaced by what the callbacks return;
 * the input is left untouched (a bus redelivers the same object after a failed batch). Each
 * distinct resource is mapped once and the span callback gets the mapped one.
 */
export function mapTraces(
  data: TracesData,
  mapSpan: (span: Span, resource: Resource | undefined) => Span,
  mapResource: (resource: Resource | undefined) => Resource | undefined = (r) => r,
): TracesData {
  const resources = new Map<Resource | undefined, Resource | undefined>();
  return {
    resourceSpans: (data.resourceSpans ?? []).map((rs) => {
      if (!resources.has(rs.resource)) resources.set(rs.resource, mapResource(rs.resource));
      const resource = resources.get(rs.resource);
      return {
        ...rs,
        resource,
        scopeSpans: (rs.scopeSpans ?? []).map((ss) => ({ ...ss, spans: (ss.spans ?? []).map((span) => mapSpan(span, resource)) })),
      };
    }),
  };
}

/** Splits a message into two with about half the spans each (for a message too large to send). */
export function halveSpans(data: TracesData): [TracesData, TracesData] {
  const half = Math.ceil(countSpans(data) / 2);
  let i = 0;
  const first = filterSpans(data, () => i++ < half);
  i = 0;
  return [first, filterSpans(data, () => i++ >= half)];
}
