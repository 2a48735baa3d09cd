/**
 * The versioned pricing table (config/pricing.yaml): per model a list of prices, each in effect
 * from a date, with an optional long-context tier. Prices are USD per million tokens.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError, Fields } from '../../core/config/fields.ts';

export interface Rates {
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
}

/** Rates for every token of a call whose prompt (input tokens, cached ones included) is larger than `aboveInputTokens`. */
export interface LongContextTier extends Rates {
  aboveInputTokens: number;
}

export interface Price extends Rates {
  /** YYYY-MM-DD (UTC): in effect from this day until the next price of the model. */
  from: string;
  fromMs: number;
  /** A key of the table's `sources`. */
  source: string;
  longContext?: LongContextTier;
}

export interface ModelPrices {
  /** The table's model id (what a span is priced as). */
  model: string;
  provider: string;
  /** Oldest first. */
  prices: Price[];
}

export interface PricedAs {
  model: ModelPrices;
  price: Price;
}

/**
 * claude-sonnet-4-5-20250929, anthropic/claude-sonnet-4-5, us.anthropic.claude-sonnet-4-5-20250929-v1:0,
 * claude-sonnet-4-5@20250929, claude-sonnet-4.5, claude-sonnet-4-5[1m] → claude-sonnet-4-5;
 * gpt-5.5-2026-04-23 → gpt-5-5; models/gemini-3.5-flash → gemini-3-5-flash.
 */
export function normalizeModel(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/\[1m\]$/, '')
    .replace(/^.*\//, '')
    .replace(/^(?:[a-z]+\.)?anthropic\./, '')
    .replace(/-v\d+(?::\d+)?$/, '')
    .replace(/[-@]\d{8}$/, '')
    .replace(/-\d{4}-\d{2}-\d{2}$/, '')
    .replace(/-latest$/, '')
    .replace(/(\d)\.(\d)/g, '$1-$2');
}

/** Model ids whose normalized name is remembered (all of them are cleared when full). */
const NORMALIZED_CACHE_SIZE = 1_000;

export class PricingTable {
  private readonly byName = new Map<string, ModelPrices>();
  private readonly normalized = new Map<string, string>();

  constructor(
    readonly version: string,
    readonly sources: Record<string, string>,
    models: { prices: ModelPrices; aliases: string[] }[],
  ) {
    for (const { prices, aliases } of models) {
      for (const name of [prices.model, ...aliases]) this.byName.set(normalizeModel(name), prices);
    }
  }

  /** The model's prices as spans name it, or undefined when the table does not know it. */
  model(model: string): ModelPrices | undefined {
    // Every model call is looked up; the ids seen are few, the normalization (9 regexes) is not free.
    let name = this.normalized.get(model);
    if (name === undefined) {
      if (this.normalized.size >= NORMALIZED_CACHE_SIZE) this.normalized.clear();
      this.normalized.set(model, (name = normalizeModel(model)));
    }
    return this.byName.get(name);
  }

  /**
   * The price in effect at `atMs` (a span's start): the latest price from on or before it. The
   * oldest price also covers earlier times (a span that knows no start time has 0).
   */
  lookup(model: string, atMs: number): PricedAs | undefined {
    const m = this.model(model);
    if (!m) return undefined;
    let price = m.prices[0]!;
    for (const p of m.prices) if (p.fromMs <= atMs) price = p;
    return { model: m, price };
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function rate(f: Fields, key: string): number {
  if (!f.has(key)) f.fail(key, 'is required (USD per million tokens)');
  return f.number(key, 0, { min: 0 });
}

function rates(f: Fields): Rates {
  return {
    input: rate(f, 'input'),
    output: rate(f, 'output'),
    cacheWrite5m: rate(f, 'cache_write_5m'),
    cacheWrite1h: rate(f, 'cache_write_1h'),
    cacheRead: rate(f, 'cache_read'),
  };
}

function parsePrice(f: Fields, sources: Record<string, string>): Price {
  const from = f.string('from');
  const fromMs = DATE.test(from) ? Date.parse(`${from}T00:00:00Z`) : NaN;
  if (!Number.isFinite(fromMs)) f.fail('from', `must be a date YYYY-MM-DD (got ${JSON.stringify(from)})`);
  const source = f.string('source');
  if (!(source in sources)) f.fail('source', `must be one of the table's sources (${Object.keys(sources).join(', ')}) (got "${source}")`);
  const price: Price = { from, fromMs, source, ...rates(f) };
  if (f.has('long_context')) {
    const lc = f.object('long_context');
    if (!lc.has('above_input_tokens')) lc.fail('above_input_tokens', 'is required');
    price.longContext = { aboveInputTokens: lc.int('above_input_tokens', 0, { min: 1 }), ...rates(lc) };
    lc.done();
  } else f.raw('long_context'); // a null value is no tier
  f.done();
  return price;
}

function parseModel(model: string, f: Fields, sources: Record<string, string>): { prices: ModelPrices; aliases: string[] } {
  const provider = f.string('provider');
  const aliases = f.stringList('aliases');
  const raw = f.raw('prices');
  if (!Array.isArray(raw) || raw.length === 0) f.fail('prices', 'must be a list of at least one price');
  const prices = raw.map((p, i) => parsePrice(new Fields(p, f.at(`prices[${i}]`)), sources));
  prices.forEach((p, i) => {
    if (i > 0 && p.fromMs <= prices[i - 1]!.fromMs)
      f.fail(`prices[${i}].from`, `must be after the previous price's (${prices[i - 1]!.from})`);
  });
  f.done();
  return { prices: { model, provider, prices }, aliases };
}

export function parsePricingTable(doc: unknown): PricingTable {
  const f = new Fields(doc, '');
  const version = f.string('version');
  f.oneOf('currency', ['USD'], 'USD');
  const sourcesField = f.object('sources');
  const sources = Object.fromEntries(sourcesField.keys().map((k) => [k, sourcesField.string(k)]));
  sourcesField.done();
  const modelsField = f.object('models');
  const names = modelsField.keys();
  if (names.length === 0) f.fail('models', 'must list at least one model');
  const models = names.map((model) => parseModel(model, modelsField.object(model), sources));
  modelsField.done();
  f.done();
  const seen = new Map<string, string>();
  for (const { prices, aliases } of models) {
    for (const name of [prices.model, ...aliases]) {
      const other = seen.get(normalizeModel(name));
      if (other !== undefined && other !== prices.model) modelsField.fail(prices.model, `"${name}" also names ${other}`);
      seen.set(normalizeModel(name), prices.model);
    }
  }
  return new PricingTable(version, sources, models);
}

/** Reads and validates a pricing file; errors name `configKey`, the file and the key inside it. */
export function loadPricingTable(file: string, configKey: string): PricingTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(configKey, `cannot read pricing file ${file}: ${(err as Error).message}`);
  }
  try {
    return parsePricingTable(parse(text));
  } catch (err) {
    throw new ConfigError(configKey, `${file}: ${(err as Error).message}`);
  }
}
