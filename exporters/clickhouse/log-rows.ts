/** Log records -> otel_logs rows as the contrib exporter writes them (TimestampTime is the table's DEFAULT). */
import { anyValueToString, attributesToMap } from '../../core/otlp/attributes.ts';
import type { LogsData } from '../../core/otlp/model.ts';
import type { Row } from './json-each-row.ts';
import { hexOrEmpty, serviceNameStr, uint64 } from './row-values.ts';

export function logRows(data: LogsData): Row[] {
  const rows: Row[] = [];
  (data.resourceLogs ?? []).forEach((rl, i) => {
    const resourceAttributes = attributesToMap(rl.resource?.attributes);
    const serviceName = serviceNameStr(rl.resource?.attributes);
    (rl.scopeLogs ?? []).forEach((sl, j) => {
      const scopeAttributes = attributesToMap(sl.scope?.attributes);
      (sl.logRecords ?? []).forEach((r, k) => {
        const where = `resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}]`;
        const time = uint64(r.timeUnixNano, `${where}.timeUnixNano`);
        rows.push({
          // A record without a time is stamped with when it was observed.
          Timestamp: time !== 0n ? time : uint64(r.observedTimeUnixNano, `${where}.observedTimeUnixNano`),
          TraceId: hexOrEmpty(r.traceId),
          SpanId: hexOrEmpty(r.spanId),
          TraceFlags: (r.flags ?? 0) & 0xff,
          SeverityText: r.severityText ?? '',
          SeverityNumber: r.severityNumber ?? 0,
          ServiceName: serviceName,
          Body: anyValueToString(r.body),
          ResourceSchemaUrl: rl.schemaUrl ?? '',
          ResourceAttributes: resourceAttributes,
          ScopeSchemaUrl: sl.schemaUrl ?? '',
          ScopeName: sl.scope?.name ?? '',
          ScopeVersion: sl.scope?.version ?? '',
          ScopeAttributes: scopeAttributes,
          LogAttributes: attributesToMap(r.attributes),
          EventName: r.eventName ?? '',
        });
      });
    });
  });
  return rows;
}
