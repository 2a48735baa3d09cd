/** Metric data points -> one row per point in the table of its type, as the contrib exporter writes them. */
import { attributesToMap } from '../../core/otlp/attributes.ts';
import type { Exemplar, Metric, MetricsData } from '../../core/otlp/model.ts';
import type { Row } from './json-each-row.ts';
import { float, hexOrZeros, serviceNameAsString, uint64 } from './row-values.ts';

export const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

function exemplarColumns(exemplars: Exemplar[] | undefined, where: string): Row {
  const list = exemplars ?? [];
  return {
    'Exemplars.FilteredAttributes': list.map((e) => attributesToMap(e.filteredAttributes)),
    'Exemplars.TimeUnix': list.map((e, n) => uint64(e.timeUnixNano, `${where}.exemplars[${n}].timeUnixNano`)),
    'Exemplars.Value': list.map((e) => float(e.asDouble, e.asInt)),
    'Exemplars.SpanId': list.map((e) => hexOrZeros(e.spanId, 8)),
    'Exemplars.TraceId': list.map((e) => hexOrZeros(e.traceId, 16)),
  };
}

function pointTimes(dp: { startTimeUnixNano?: string; timeUnixNano?: string }, where: string): Row {
  return {
    StartTimeUnix: uint64(dp.startTimeUnixNano, `${where}.startTimeUnixNano`),
    TimeUnix: uint64(dp.timeUnixNano, `${where}.timeUnixNano`),
  };
}

/** The columns a metric's points add to the shared ones, and which table they go to. */
function pointRows(metric: Metric, where: string): [MetricType, Row[]] | undefined {
  if (metric.gauge) {
    return ['gauge', (metric.gauge.dataPoints ?? []).map((dp, n) => {
      const w = `${where}.gauge.dataPoints[${n}]`;
      return { Attributes: attributesToMap(dp.attributes), ...pointTimes(dp, w), Value: float(dp.asDouble, dp.asInt), Flags: dp.flags ?? 0, ...exemplarColumns(dp.exemplars, w) };
    })];
  }
  if (metric.sum) {
    const sum = metric.sum;
    return ['sum', (sum.dataPoints ?? []).map((dp, n) => {
      const w = `${where}.sum.dataPoints[${n}]`;
      return {
        Attributes: attributesToMap(dp.attributes), ...pointTimes(dp, w), Value: float(dp.asDouble, dp.asInt), Flags: dp.flags ?? 0, ...exemplarColumns(dp.exemplars, w),
        AggregationTemporality: sum.aggregationTemporality ?? 0,
        IsMonotonic: sum.isMonotonic ?? false,
      };
    })];
  }
  if (metric.histogram) {
    const h = metric.histogram;
    return ['histogram', (h.dataPoints ?? []).map((dp, n) => {
      const w = `${where}.histogram.dataPoints[${n}]`;
      return {
        Attributes: attributesToMap(dp.attributes), ...pointTimes(dp, w),
        Count: uint64(dp.count, `${w}.count`),
        Sum: dp.sum ?? 0,
        BucketCounts: (dp.bucketCounts ?? []).map((c, b) => uint64(c, `${w}.bucketCounts[${b}]`)),
        ExplicitBounds: dp.explicitBounds ?? [],
        ...exemplarColumns(dp.exemplars, w),
        Flags: dp.flags ?? 0,
        Min: dp.min ?? 0,
        Max: dp.max ?? 0,
        AggregationTemporality: h.aggregationTemporality ?? 0,
      };
    })];
  }
  if (metric.exponentialHistogram) {
    const h = metric.exponentialHistogram;
    return ['exponential_histogram', (h.dataPoints ?? []).map((dp, n) => {
      const w = `${where}.exponentialHistogram.dataPoints[${n}]`;
      return {
        Attributes: attributesToMap(dp.attributes), ...pointTimes(dp, w),
        Count: uint64(dp.count, `${w}.count`),
        Sum: dp.sum ?? 0,
        Scale: dp.scale ?? 0,
        ZeroCount: uint64(dp.zeroCount, `${w}.zeroCount`),
        PositiveOffset: dp.positive?.offset ?? 0,
        PositiveBucketCounts: (dp.positive?.bucketCounts ?? []).map((c, b) => uint64(c, `${w}.positive.bucketCounts[${b}]`)),
        NegativeOffset: dp.negative?.offset ?? 0,
        NegativeBucketCounts: (dp.negative?.bucketCounts ?? []).map((c, b) => uint64(c, `${w}.negative.bucketCounts[${b}]`)),
        ...exemplarColumns(dp.exemplars, w),
        Flags: dp.flags ?? 0,
        Min: dp.min ?? 0,
        Max: dp.max ?? 0,
        AggregationTemporality: h.aggregationTemporality ?? 0,
      };
    })];
  }
  if (metric.summary) {
    return ['summary', (metric.summary.dataPoints ?? []).map((dp, n) => {
      const w = `${where}.summary.dataPoints[${n}]`;
      const quantiles = dp.quantileValues ?? [];
      return {
        Attributes: attributesToMap(dp.attributes), ...pointTimes(dp, w),
        Count: uint64(dp.count, `${w}.count`),
        Sum: dp.sum ?? 0,
        'ValueAtQuantiles.Quantile': quantiles.map((q) => q.quantile ?? 0),
        'ValueAtQuantiles.Value': quantiles.map((q) => q.value ?? 0),
        Flags: dp.flags ?? 0,
      };
    })];
  }
  return undefined; // a metric without data (OTLP allows it) has no points to store
}

export function metricRows(data: MetricsData): Map<MetricType, Row[]> {
  const out = new Map<MetricType, Row[]>();
  (data.resourceMetrics ?? []).forEach((rm, i) => {
    const resource = {
      ResourceAttributes: attributesToMap(rm.resource?.attributes),
      ResourceSchemaUrl: rm.schemaUrl ?? '',
    };
    const serviceName = serviceNameAsString(rm.resource?.attributes);
    (rm.scopeMetrics ?? []).forEach((sm, j) => {
      const scope = {
        ScopeName: sm.scope?.name ?? '',
        ScopeVersion: sm.scope?.version ?? '',
        ScopeAttributes: attributesToMap(sm.scope?.attributes),
        ScopeDroppedAttrCount: sm.scope?.droppedAttributesCount ?? 0,
        ScopeSchemaUrl: sm.schemaUrl ?? '',
      };
      (sm.metrics ?? []).forEach((metric, k) => {
        const points = pointRows(metric, `resourceMetrics[${i}].scopeMetrics[${j}].metrics[${k}]`);
        if (!points) return;
        const [type, rows] = points;
        const head = { ...resource, ...scope, ServiceName: serviceName, MetricName: metric.name ?? '', MetricDescription: metric.description ?? '', MetricUnit: metric.unit ?? '' };
        let list = out.get(type);
        if (!list) out.set(type, (list = []));
        for (const row of rows) list.push({ ...head, ...row });
      });
    });
  });
  return out;
}
