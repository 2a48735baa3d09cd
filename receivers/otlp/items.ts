/** Counting the items of an OTLP request: spans, log records, metric data points. */
import type { LogsData, Metric, MetricsData, Signal, SignalData, TracesData } from '../../core/otlp/model.ts';
import { countSpans } from '../../core/otlp/traces.ts';

export const itemName: Record<Signal, string> = { traces: 'spans', logs: 'log_records', metrics: 'metric_points' };

function countLogRecords(data: LogsData): number {
  let n = 0;
  for (const rl of data.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) n += sl.logRecords?.length ?? 0;
  return n;
}

function dataPointsOf(m: Metric): number {
  const body = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
  return body?.dataPoints?.length ?? 0;
}

function countDataPoints(data: MetricsData): number {
  let n = 0;
  for (const rm of data.resourceMetrics ?? []) for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) n += dataPointsOf(m);
  return n;
}

export function countItems<S extends Signal>(signal: S, data: SignalData[S]): number {
  if (signal === 'traces') return countSpans(data as TracesData);
  if (signal === 'logs') return countLogRecords(data as LogsData);
  return countDataPoints(data as MetricsData);
}
