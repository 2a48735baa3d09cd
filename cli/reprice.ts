/**
 * agentotel reprice [-c config] [--since 30d] [--dry-run]
 *
 * After the pricing table was corrected (and its `version` bumped): the stored model-call spans
 * started within `--since` whose `agentotel.pricing.version` is not the table's are priced again
 * with the enrichment processor's pricing, and the session totals of their traces reconciled
 * again. Each changed span is written as a new version of itself — its latest row with
 * `agentotel.span.version` one higher, as the dedupe processor writes late views — through the
 * config's ClickHouse exporter into the same table; readers take the highest version per span.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { AgentAttr } from '../core/agent/session-spans.ts';
import type { ExporterFactory, ProcessorFactory } from '../core/component.ts';
import { Fields } from '../core/config/fields.ts';
import { MetricsRegistry } from '../core/metrics.ts';
import { getNumber, getString, setAttribute } from '../core/otlp/attributes.ts';
import type { KeyValue, Span, TracesData } from '../core/otlp/model.ts';
import { createClickHouseClient, queryRows, type ClickHouseClient, type ClickHouseExporterConfig } from '../exporters/clickhouse/index.ts';
import { SPAN_KINDS, STATUS_CODES } from '../exporters/clickhouse/trace-rows.ts';
import {
  EnrichAttr,
  isModelCall,
  isReportedTotal,
  spanPricer,
  type EnrichmentConfig,
  type SpanPricer,
} from '../processors/enrichment/index.ts';
import type { Configured, ServiceConfig } from '../service/config.ts';
import { componentContext } from '../service/context.ts';
import { loadServiceConfig } from '../service/service.ts';

const DEFAULT_CONFIG = fileURLToPath(new URL('../config/agentotel.yaml', import.meta.url));
const DEFAULT_SINCE_MS = 30 * 86_400_000;
/** Traces read and written at a time. */
const TRACES_PER_BATCH = 200;

const USAGE = `usage: agentotel reprice [options]

Prices the stored model calls again with the current pricing table (those priced with another
version of it), and writes each changed span as a new version of itself.

options:
  -c, --config <file>   config file (default: the bundled config/agentotel.yaml): its enrichment
                        processor's pricing table and its clickhouse exporter
      --since <dur>     model calls started within this long (default 30d)
      --dry-run         report what would change, write nothing
  -h, --help`;

export interface RepriceOptions {
  sinceMs: number;
  dryRun: boolean;
  now?: number;
}

export interface RepriceSummary {
  /** The current table's version. */
  version: string;
  /** Model calls priced with another version, by that version. */
  stale: Record<string, number>;
  sessions: number;
  /** Of the stale model calls: whose cost changed, that are priced now and were not, that stay unpriced. */
  costChanged: number;
  newlyPriced: number;
  stillUnpriced: number;
  /** The change of the priced total, USD. */
  deltaUsd: number;
  /** Session spans whose reconciliation changed. */
  totals: number;
  /** Spans written as new versions (0 in a dry run). */
  written: number;
}

/** A span as stored in otel_traces (the latest version of it), the columns the exporter writes. */
interface StoredSpan {
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  SpanKind: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  start: string;
  duration: string;
  StatusCode: string;
  StatusMessage: string;
  eventTimes: string[];
  eventNames: string[];
  eventAttributes: Record<string, string>[];
  linkTraceIds: string[];
  linkSpanIds: string[];
  linkStates: string[];
  linkAttributes: Record<string, string>[];
  version: number;
}

const SPAN_COLUMNS = `TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ResourceAttributes, ScopeName, ScopeVersion,
  SpanAttributes, toString(toUnixTimestamp64Nano(Timestamp)) AS start, toString(Duration) AS duration, StatusCode, StatusMessage,
  arrayMap(t -> toString(toUnixTimestamp64Nano(t)), \`Events.Timestamp\`) AS eventTimes, \`Events.Name\` AS eventNames,
  \`Events.Attributes\` AS eventAttributes, \`Links.TraceId\` AS linkTraceIds, \`Links.SpanId\` AS linkSpanIds,
  \`Links.TraceState\` AS linkStates, \`Links.Attributes\` AS linkAttributes,
  toUInt32OrZero(SpanAttributes['${AgentAttr.version}']) AS version`;

const keyValues = (map: Record<string, string>): KeyValue[] => Object.entries(map).map(([key, v]) => ({ key, value: { stringValue: v } }));

/** The stored span back as an OTLP span under its resource and scope (attribute values come back as strings). */
function toTracesData(row: StoredSpan, attributes: KeyValue[]): TracesData {
  const span: Span = {
    traceId: row.TraceId,
    spanId: row.SpanId,
    parentSpanId: row.ParentSpanId || undefined,
    traceState: row.TraceState || undefined,
    name: row.SpanName,
    kind: Math.max(0, SPAN_KINDS.indexOf(row.SpanKind)),
    startTimeUnixNano: row.start,
    endTimeUnixNano: String(BigInt(row.start) + BigInt(row.duration)),
    attributes,
    events: row.eventNames.map((name, i) => ({
      name,
      timeUnixNano: row.eventTimes[i],
      attributes: keyValues(row.eventAttributes[i] ?? {}),
    })),
    links: row.linkTraceIds.map((traceId, i) => ({
      traceId,
      spanId: row.linkSpanIds[i]!,
      traceState: row.linkStates[i] || undefined,
      attributes: keyValues(row.linkAttributes[i] ?? {}),
    })),
    status: { code: Math.max(0, STATUS_CODES.indexOf(row.StatusCode)), message: row.StatusMessage || undefined },
  };
  return {
    resourceSpans: [
      {
        resource: { attributes: keyValues(row.ResourceAttributes) },
        scopeSpans: [{ scope: { name: row.ScopeName, version: row.ScopeVersion || undefined }, spans: [span] }],
      },
    ],
  };
}

/** The pipeline that prices: its enrichment processor and its clickhouse exporter. */
function pricingPipeline(config: ServiceConfig): { enrichment: Configured<ProcessorFactory>; exporter: Configured<ExporterFactory> } {
  for (const p of config.pipelines) {
    const enrichment = p.processors.find((c) => c.factory.type === 'enrichment');
    const exporter = p.exporters.find((c) => c.factory.type === 'clickhouse');
    if (enrichment && exporter) return { enrichment, exporter };
  }
  throw new Error('no traces pipeline of the config has both an enrichment processor and a clickhouse exporter');
}

/** What one trace's stored spans become with the current table: the spans to write. */
function repriceTrace(rows: StoredSpan[], pricer: SpanPricer, fromNs: bigint, summary: RepriceSummary): TracesData[] {
  const out: TracesData[] = [];
  const costs = new Map<string, number | undefined>();
  let changed = false;
  const rewrite = (row: StoredSpan, attrs: KeyValue[]) => {
    setAttribute(attrs, AgentAttr.version, Number(row.version) + 1);
    out.push(toTracesData(row, attrs));
  };
  for (const row of rows) {
    const attrs = keyValues(row.SpanAttributes);
    if (!isModelCall(attrs)) continue;
    const before = getNumber(attrs, EnrichAttr.costUsd);
    const stale = getString(attrs, EnrichAttr.pricingVersion) !== pricer.table.version && BigInt(row.start) >= fromNs;
    if (!stale) {
      costs.set(row.SpanId, before);
      continue;
    }
    const from = getString(attrs, EnrichAttr.pricingVersion)!;
    summary.stale[from] = (summary.stale[from] ?? 0) + 1;
    const after = pricer.priceModelCall(attrs, row.start).usd;
    costs.set(row.SpanId, after);
    if (after === undefined) summary.stillUnpriced++;
    else if (before === undefined) summary.newlyPriced++;
    else if (after !== before) summary.costChanged++;
    summary.deltaUsd += (after ?? 0) - (before ?? 0);
    changed = true;
    rewrite(row, attrs);
  }
  if (!changed) return out;
  summary.sessions++;
  const usd = [...costs.values()].reduce<number>((sum, c) => sum + (c ?? 0), 0);
  const unpriced = [...costs.values()].filter((c) => c === undefined).length;
  for (const row of rows) {
    const attrs = keyValues(row.SpanAttributes);
    if (!isReportedTotal(attrs)) continue;
    pricer.reconcileTotal(attrs, usd, unpriced);
    const same =
      attrs.length === Object.keys(row.SpanAttributes).length && attrs.every((kv) => row.SpanAttributes[kv.key] === kv.value?.stringValue);
    if (same) continue;
    summary.totals++;
    rewrite(row, attrs);
  }
  return out;
}

export async function reprice(config: ServiceConfig, options: RepriceOptions): Promise<RepriceSummary> {
  const { enrichment, exporter } = pricingPipeline(config);
  const pricer = spanPricer(enrichment.config as EnrichmentConfig, { id: enrichment.id, configDir: config.configDir });
  const chConfig = exporter.config as ClickHouseExporterConfig;
  const table = `${chConfig.schema.database}.${chConfig.schema.tracesTable}`;
  const context = { ...componentContext(config, exporter.id, new MetricsRegistry()), durableBus: false };
  const fromNs = BigInt(Math.round((options.now ?? Date.now()) - options.sinceMs)) * 1_000_000n;
  const summary: RepriceSummary = {
    version: pricer.table.version,
    stale: {},
    sessions: 0,
    costChanged: 0,
    newlyPriced: 0,
    stillUnpriced: 0,
    deltaUsd: 0,
    totals: 0,
    written: 0,
  };

  const client: ClickHouseClient = createClickHouseClient(chConfig.connection, context);
  const sink = options.dryRun ? undefined : exporter.factory.create(chConfig, context);
  try {
    await sink?.start();
    const traces = await queryRows<{ TraceId: string }>(
      client,
      `SELECT DISTINCT TraceId FROM ${table}
       WHERE Timestamp >= fromUnixTimestamp64Nano({from:Int64}) AND SpanAttributes['${EnrichAttr.pricingVersion}'] NOT IN ('', {current:String})`,
      { from: String(fromNs), current: pricer.table.version },
    );
    for (let i = 0; i < traces.length; i += TRACES_PER_BATCH) {
      // The latest version of each model call and session total of these traces, whenever it started.
      const rows = await queryRows<StoredSpan>(
        client,
        `SELECT ${SPAN_COLUMNS} FROM ${table}
         WHERE TraceId IN {ids:Array(String)}
           AND (SpanAttributes['${EnrichAttr.pricingVersion}'] != '' OR SpanAttributes['agentotel.agent.cost_usd'] != '')
         ORDER BY version DESC LIMIT 1 BY TraceId, SpanId`,
        { ids: traces.slice(i, i + TRACES_PER_BATCH).map((t) => t.TraceId) },
      );
      const byTrace = new Map<string, StoredSpan[]>();
      for (const r of rows) {
        const spans = byTrace.get(r.TraceId);
        if (spans) spans.push(r);
        else byTrace.set(r.TraceId, [r]);
      }
      const out = [...byTrace.values()].flatMap((spans) => repriceTrace(spans, pricer, fromNs, summary));
      if (sink && out.length > 0) {
        await sink.export('traces', [
          { value: { resourceSpans: out.flatMap((d) => d.resourceSpans ?? []) }, topic: 'reprice', partition: 0, offset: '0' },
        ]);
        summary.written += out.length;
      }
    }
  } finally {
    await sink?.shutdown();
    await client.close();
  }
  summary.deltaUsd = Math.round(summary.deltaUsd * 1e12) / 1e12;
  return summary;
}

export function describeSummary(s: RepriceSummary, dryRun: boolean): string {
  const stale = Object.values(s.stale).reduce((a, b) => a + b, 0);
  if (stale === 0) return `pricing table ${s.version}: every model call in range is priced with it; nothing to do`;
  const versions = Object.entries(s.stale)
    .map(([v, n]) => `${v}: ${n}`)
    .join(', ');
  const delta = `${s.deltaUsd >= 0 ? '+' : '-'}$${Math.abs(s.deltaUsd)}`;
  return (
    `pricing table ${s.version}: ${stale} model calls in ${s.sessions} sessions were priced with another version (${versions}); ` +
    `${s.costChanged} cost changed, ${s.newlyPriced} newly priced, ${s.stillUnpriced} still unpriced (total ${delta}); ` +
    `${s.totals} session totals reconciled again; ` +
    (dryRun ? 'dry run: nothing written' : `${s.written} spans written as new versions`)
  );
}

export async function runReprice(args: string[]): Promise<number> {
  let values: { config?: string; since?: string; 'dry-run'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        since: { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let sinceMs: number;
  try {
    sinceMs = new Fields({ '--since': values.since }, '').duration('--since', DEFAULT_SINCE_MS);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const dryRun = values['dry-run'] === true;
  const config = await loadServiceConfig(values.config ?? DEFAULT_CONFIG);
  console.log(describeSummary(await reprice(config, { sinceMs, dryRun }), dryRun));
  return 0;
}
