/**
 * The enrichment processor: the USD cost of each model call from the pricing table, and the
 * team and user every span is attributed to.
 */
import type { Processor } from '../../core/component.ts';
import type { KeyValue, Resource, Span, TracesData } from '../../core/otlp/model.ts';
import { getNumber, getString, setAttribute } from '../../core/otlp/attributes.ts';
import { mapTraces } from '../../core/otlp/traces.ts';
import { costUsd, type PricingTable } from './pricing.ts';
import { UNASSIGNED } from '../../core/agent/session-spans.ts';

export const ATTR_COST_USD = 'agentotel.cost.usd';
export const ATTR_UNPRICED = 'agentotel.cost.unpriced';
export const ATTR_USAGE_INCONSISTENT = 'agentotel.cost.usage_inconsistent';
export const ATTR_PRICING_VERSION = 'agentotel.pricing.version';
export const ATTR_PRICING_MODEL = 'agentotel.pricing.model';
export const ATTR_TEAM = 'agentotel.team';
export const ATTR_USER = 'agentotel.user';
/** Anthropic's usage.cache_creation.ephemeral_1h_input_tokens: how many cache writes had the 1-hour TTL. */
export const ATTR_CACHE_CREATION_1H = 'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens';

/** Operations that are one model call; agent and tool spans may carry usage totals, never priced again. */
const MODEL_CALL_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content']);

function isModelCall(attrs: KeyValue[] | undefined): boolean {
  const operation = getString(attrs, 'gen_ai.operation.name');
  if (operation !== undefined && !MODEL_CALL_OPERATIONS.has(operation)) return false;
  return getNumber(attrs, 'gen_ai.usage.input_tokens') !== undefined || getNumber(attrs, 'gen_ai.usage.output_tokens') !== undefined;
}

const TEAM_KEYS = ['team'];
const USER_KEYS = ['user.email', 'user.id'];

const tokens = (attrs: KeyValue[], key: string): number => Math.max(0, getNumber(attrs, key) ?? 0);

const firstOf = (keys: string[], ...lists: (KeyValue[] | undefined)[]): string | undefined => {
  for (const attrs of lists) {
    for (const key of keys) {
      const v = getString(attrs, key);
      if (v) return v;
    }
  }
  return undefined;
};

export class EnrichmentProcessor implements Processor {
  constructor(private readonly pricing: PricingTable) {}

  processTraces(data: TracesData): TracesData {
    return mapTraces(data, (span, resource) => this.enrich(span, resource));
  }

  private enrich(input: Span, resource: Resource | undefined): Span {
    const attributes = [...(input.attributes ?? [])];
    const r = resource?.attributes;
    setAttribute(attributes, ATTR_TEAM, firstOf(TEAM_KEYS, r, input.attributes) ?? UNASSIGNED);
    setAttribute(attributes, ATTR_USER, firstOf(USER_KEYS, r, input.attributes) ?? UNASSIGNED);
    if (isModelCall(input.attributes)) this.price(attributes);
    // Copy, then assign: a spread literal adding a field the input lacks takes V8's slow path.
    const span = { ...input };
    span.attributes = attributes;
    return span;
  }

  private price(attrs: KeyValue[]): void {
    setAttribute(attrs, ATTR_PRICING_VERSION, this.pricing.version);
    const model = getString(attrs, 'gen_ai.response.model') || getString(attrs, 'gen_ai.request.model');
    const price = model ? this.pricing.lookup(model) : undefined;
    if (!price) {
      // Never $0: an unknown model is flagged so dashboards can show it as unpriced.
      setAttribute(attrs, ATTR_UNPRICED, true);
      return;
    }
    const usage = {
      input: tokens(attrs, 'gen_ai.usage.input_tokens'),
      output: tokens(attrs, 'gen_ai.usage.output_tokens'),
      cacheRead: tokens(attrs, 'gen_ai.usage.cache_read.input_tokens'),
      cacheCreation: tokens(attrs, 'gen_ai.usage.cache_creation.input_tokens'),
      cacheCreation1h: tokens(attrs, ATTR_CACHE_CREATION_1H),
    };
    // The conventions count cache tokens inside input_tokens; a producer that does not is
    // priced as if it did (uncached input clamped to 0) and flagged.
    if (usage.input < usage.cacheRead + usage.cacheCreation) setAttribute(attrs, ATTR_USAGE_INCONSISTENT, true);
    setAttribute(attrs, ATTR_COST_USD, costUsd(price, usage));
    setAttribute(attrs, ATTR_PRICING_MODEL, price.model);
  }
}
