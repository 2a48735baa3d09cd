/** Spans -> otel_traces rows, column for column as the contrib exporter writes them. */
import { attributesToMap } from '../../core/otlp/attributes.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import type { Row } from './json-each-row.ts';
import { hexOrEmpty, serviceNameStr, uint64 } from './row-values.ts';

/** pdata's SpanKind.String() and StatusCode.String(). */
export const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
export const STATUS_CODES = ['Unset', 'Ok', 'Error'];

export function traceRows(data: TracesData): Row[] {
  const rows: Row[] = [];
  (data.resourceSpans ?? []).forEach((rs, i) => {
    const resourceAttributes = attributesToMap(rs.resource?.attributes);
    const serviceName = serviceNameStr(rs.resource?.attributes);
    (rs.scopeSpans ?? []).forEach((ss, j) => {
      (ss.spans ?? []).forEach((span, k) => {
        const where = `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
        const start = uint64(span.startTimeUnixNano, `${where}.startTimeUnixNano`);
        const end = uint64(span.endTimeUnixNano, `${where}.endTimeUnixNano`);
        const events = span.events ?? [];
        const links = span.links ?? [];
        rows.push({
          Timestamp: start,
          TraceId: hexOrEmpty(span.traceId),
          SpanId: hexOrEmpty(span.spanId),
          ParentSpanId: hexOrEmpty(span.parentSpanId),
          TraceState: span.traceState ?? '',
          SpanName: span.name ?? '',
          SpanKind: SPAN_KINDS[span.kind ?? 0] ?? '',
          ServiceName: serviceName,
          ResourceAttributes: resourceAttributes,
          ScopeName: ss.scope?.name ?? '',
          ScopeVersion: ss.scope?.version ?? '',
          SpanAttributes: attributesToMap(span.attributes),
          // An end before the start would wrap around in the contrib exporter; 0 says "no duration".
          Duration: end > start ? end - start : 0n,
          StatusCode: STATUS_CODES[span.status?.code ?? 0] ?? '',
          StatusMessage: span.status?.message ?? '',
          'Events.Timestamp': events.map((e, n) => uint64(e.timeUnixNano, `${where}.events[${n}].timeUnixNano`)),
          'Events.Name': events.map((e) => e.name ?? ''),
          'Events.Attributes': events.map((e) => attributesToMap(e.attributes)),
          'Links.TraceId': links.map((l) => hexOrEmpty(l.traceId)),
          'Links.SpanId': links.map((l) => hexOrEmpty(l.spanId)),
          'Links.TraceState': links.map((l) => l.traceState ?? ''),
          'Links.Attributes': links.map((l) => attributesToMap(l.attributes)),
        });
      });
    });
  });
  return rows;
}
