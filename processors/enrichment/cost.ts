/**
 * The cost of one model call from its usage, counted the GenAI conventions' way: input tokens
 * include cache reads and writes (Anthropic's own input_tokens excludes them, the receivers add
 * them), output tokens include reasoning tokens (Codex, Gemini thoughts). Cached and reasoning
 * tokens are therefore subtracted from, or left inside, the totals — never added to them.
 */
import type { KeyValue } from '../../core/otlp/model.ts';
import { getNumber } from '../../core/otlp/attributes.ts';
import { GenAiAttr } from '../../core/agent/genai.ts';
import type { Price, Rates } from './pricing.ts';

/** Anthropic's usage.cache_creation.ephemeral_1h_input_tokens: how many cache writes had the 1-hour TTL. */
export const CACHE_WRITE_1H_TOKENS = 'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens';

export interface Usage {
  /** All input tokens, cache reads and writes included. */
  input: number;
  /** All output tokens, reasoning included. */
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** The part of cacheWrite written with the 1-hour TTL. */
  cacheWrite1h: number;
}

export type Tier = 'standard' | 'long_context';

export interface CallCost {
  usd: number;
  tier: Tier;
  /** input < cache reads + writes: a producer that left the cache out of input_tokens (uncached input taken as 0). */
  inconsistent: boolean;
}

const tokens = (attrs: KeyValue[] | undefined, key: string): number => Math.max(0, getNumber(attrs, key) ?? 0);

export function usageOf(attrs: KeyValue[] | undefined): Usage {
  return {
    input: tokens(attrs, GenAiAttr.inputTokens),
    output: tokens(attrs, GenAiAttr.outputTokens),
    cacheRead: tokens(attrs, GenAiAttr.cacheReadTokens),
    cacheWrite: tokens(attrs, GenAiAttr.cacheWriteTokens),
    cacheWrite1h: tokens(attrs, CACHE_WRITE_1H_TOKENS),
  };
}

/** Rounded to 1e-12 USD so that sums carry no float noise. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e12) / 1e12;

/**
 *   uncached = input − cache_read − cache_write       (≥ 0)
 *   write_1h = the 1-hour part of cache_write, write_5m = the rest
 *   usd      = (uncached·input + output·output + write_5m·cache_write_5m + write_1h·cache_write_1h + cache_read·cache_read) / 1e6
 * at the long-context rates for every token when the prompt (input) exceeds the tier's threshold.
 */
export function callCost(price: Price, u: Usage): CallCost {
  const tier = price.longContext && u.input > price.longContext.aboveInputTokens ? price.longContext : undefined;
  const r: Rates = tier ?? price;
  const write1h = Math.min(u.cacheWrite1h, u.cacheWrite);
  const write5m = u.cacheWrite - write1h;
  const uncached = Math.max(0, u.input - u.cacheRead - u.cacheWrite);
  const perMillion =
    uncached * r.input + u.output * r.output + write5m * r.cacheWrite5m + write1h * r.cacheWrite1h + u.cacheRead * r.cacheRead;
  return {
    usd: roundUsd(perMillion / 1e6),
    tier: tier ? 'long_context' : 'standard',
    inconsistent: u.input < u.cacheRead + u.cacheWrite,
  };
}
