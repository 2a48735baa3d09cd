/**
 * Cost and reconciliation attributes on a span's attribute list: a model call priced from the
 * table at its start time, and any figure the agent reported itself (a call's or the session's)
 * set against what was computed. Used by the processor and by `agentotel reprice`.
 */
import { AgentSpanAttr, GenAiAttr } from '../../core/agent/genai.ts';
import { getNumber, getString, setAttribute } from '../../core/otlp/attributes.ts';
import type { KeyValue } from '../../core/otlp/model.ts';
import { EnrichAttr } from './attributes.ts';
import { callCost, roundUsd, usageOf } from './cost.ts';
import type { PricingTable } from './pricing.ts';

export interface ReconciliationConfig {
  /** Drift is flagged when |reported − computed| exceeds this fraction of the reported figure … */
  driftThreshold: number;
  /** … and this many USD. */
  driftMinUsd: number;
}

/** Operations that are one model call; agent and tool spans may carry usage totals, never priced again. */
const MODEL_CALL_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content']);

export const isModelCallOperation = (operation: string | undefined): boolean =>
  operation === undefined || MODEL_CALL_OPERATIONS.has(operation);

export function isModelCall(attrs: KeyValue[] | undefined): boolean {
  if (!isModelCallOperation(getString(attrs, GenAiAttr.operationName) || undefined)) return false;
  return getNumber(attrs, GenAiAttr.inputTokens) !== undefined || getNumber(attrs, GenAiAttr.outputTokens) !== undefined;
}

/** A span other than a model call that carries the agent's own cost figure holds a session total. */
export const isReportedTotal = (attrs: KeyValue[] | undefined): boolean =>
  getNumber(attrs, AgentSpanAttr.agentCostUsd) !== undefined && !isModelCall(attrs);

const MODEL_CALL_KEYS = new Set<string>([
  EnrichAttr.costUsd,
  EnrichAttr.unpriced,
  EnrichAttr.usageInconsistent,
  EnrichAttr.pricingVersion,
  EnrichAttr.pricingModel,
  EnrichAttr.pricingFrom,
  EnrichAttr.pricingTier,
  EnrichAttr.driftUsd,
  EnrichAttr.drift,
]);
const TOTAL_KEYS = new Set<string>([EnrichAttr.computedUsd, EnrichAttr.unpricedCalls, EnrichAttr.driftUsd, EnrichAttr.drift]);

/** Removes what an earlier pricing set (a message processed again, a span repriced). */
function drop(attrs: KeyValue[], keys: Set<string>): void {
  for (let i = attrs.length - 1; i >= 0; i--) if (keys.has(attrs[i]!.key)) attrs.splice(i, 1);
}

const startMs = (startTimeUnixNano: string | undefined): number => {
  const ms = Number(startTimeUnixNano ?? 0) / 1e6;
  return Number.isFinite(ms) ? ms : 0;
};

export class SpanPricer {
  constructor(
    readonly table: PricingTable,
    private readonly reconciliation: ReconciliationConfig,
  ) {}

  /**
   * Prices a model call on `attrs` (a list the caller owns) with the price in effect at the
   * span's start. The cost is undefined when the model is unknown: flagged unpriced, never $0.
   */
  priceModelCall(attrs: KeyValue[], startTimeUnixNano: string | undefined): { usd: number | undefined; drift: boolean } {
    drop(attrs, MODEL_CALL_KEYS);
    setAttribute(attrs, EnrichAttr.pricingVersion, this.table.version);
    const model = getString(attrs, GenAiAttr.responseModel) || getString(attrs, GenAiAttr.requestModel);
    const priced = model ? this.table.lookup(model, startMs(startTimeUnixNano)) : undefined;
    if (!priced) {
      setAttribute(attrs, EnrichAttr.unpriced, true);
      return { usd: undefined, drift: false };
    }
    const cost = callCost(priced.price, usageOf(attrs));
    setAttribute(attrs, EnrichAttr.costUsd, cost.usd);
    setAttribute(attrs, EnrichAttr.pricingModel, priced.model.model);
    setAttribute(attrs, EnrichAttr.pricingFrom, priced.price.from);
    setAttribute(attrs, EnrichAttr.pricingTier, cost.tier);
    if (cost.inconsistent) setAttribute(attrs, EnrichAttr.usageInconsistent, true);
    return { usd: cost.usd, drift: this.reconcile(attrs, cost.usd) };
  }

  /** A session's reported total against the sum of the costs computed for its model calls; returns whether it drifts. */
  reconcileTotal(attrs: KeyValue[], computedUsd: number, unpricedCalls: number): boolean {
    drop(attrs, TOTAL_KEYS);
    setAttribute(attrs, EnrichAttr.computedUsd, roundUsd(computedUsd));
    if (unpricedCalls > 0) setAttribute(attrs, EnrichAttr.unpricedCalls, unpricedCalls);
    return this.reconcile(attrs, computedUsd);
  }

  /** Sets drift_usd and drift when the agent reported a figure; returns whether it drifts. */
  private reconcile(attrs: KeyValue[], computedUsd: number): boolean {
    const reported = getNumber(attrs, AgentSpanAttr.agentCostUsd);
    if (reported === undefined) return false;
    const diff = reported - computedUsd;
    const { driftThreshold, driftMinUsd } = this.reconciliation;
    const drift = Math.abs(diff) > driftMinUsd && Math.abs(diff) > driftThreshold * Math.abs(reported);
    setAttribute(attrs, EnrichAttr.driftUsd, roundUsd(diff));
    setAttribute(attrs, EnrichAttr.drift, drift);
    return drift;
  }
}
