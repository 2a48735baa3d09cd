/**
 * The versioned pricing table (config/pricing.yaml) and the cost of one model call.
 * Prices are USD per million tokens.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError, Fields } from '../../core/config/fields.ts';

export interface ModelPrice {
  /** The table's model id (what a span is priced as). */
  model: string;
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
}

export interface Usage {
  /** gen_ai.usage.input_tokens: for Anthropic this includes cache reads and writes. */
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  /** The part of cacheCreation written with the 1-hour TTL. */
  cacheCreation1h: number;
}

/**
 * claude-sonnet-4-5-20250929, anthropic/claude-sonnet-4-5, us.anthropic.claude-sonnet-4-5-20250929-v1:0,
 * claude-sonnet-4-5@20250929, claude-sonnet-4.5, claude-sonnet-4-5[1m] → claude-sonnet-4-5.
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
    .replace(/-latest$/, '')
    .replace(/(\d)\.(\d)/g, '$1-$2');
}

/** Model ids whose normalized name is remembered (all of them are cleared when full). */
const NORMALIZED_CACHE_SIZE = 1_000;

export class PricingTable {
  private readonly byName = new Map<string, ModelPrice>();
  private readonly normalized = new Map<string, string>();

  constructor(
    readonly version: string,
    readonly effectiveDate: string,
    models: { price: ModelPrice; aliases: string[] }[],
  ) {
    for (const { price, aliases } of models) {
      for (const name of [price.model, ...aliases]) this.byName.set(normalizeModel(name), price);
    }
  }

  /** The price of a model id as spans carry it, or undefined when the table does not know it. */
  lookup(model: string): ModelPrice | undefined {
    // Every model call is looked up; the ids seen are few, the normalization (8 regexes) is not free.
    let name = this.normalized.get(model);
    if (name === undefined) {
      if (this.normalized.size >= NORMALIZED_CACHE_SIZE) this.normalized.clear();
      this.normalized.set(model, (name = normalizeModel(model)));
    }
    return this.byName.get(name);
  }
}

/** USD; rounded to 1e-12 so sums do not carry float noise. */
export function costUsd(price: ModelPrice, usage: Usage): number {
  const write1h = Math.min(usage.cacheCreation1h, usage.cacheCreation);
  const write5m = usage.cacheCreation - write1h;
  const uncachedInput = Math.max(0, usage.input - usage.cacheRead - usage.cacheCreation);
  const perMillion =
    uncachedInput * price.input + usage.output * price.output + write5m * price.cacheWrite5m + write1h * price.cacheWrite1h + usage.cacheRead * price.cacheRead;
  return Math.round((perMillion / 1e6) * 1e12) / 1e12;
}

function requiredPrice(f: Fields, key: string): number {
  if (!f.has(key)) f.fail(key, 'is required (USD per million tokens)');
  return f.number(key, 0, { min: 0 });
}

export function parsePricingTable(doc: unknown): PricingTable {
  const f = new Fields(doc, '');
  const version = f.string('version');
  const effectiveDate = f.string('effective_date');
  f.oneOf('currency', ['USD'], 'USD');
  const modelsField = f.object('models');
  const names = modelsField.keys();
  if (names.length === 0) f.fail('models', 'must list at least one model');
  const models = names.map((model) => {
    const m = modelsField.object(model);
    const price: ModelPrice = {
      model,
      input: requiredPrice(m, 'input'),
      output: requiredPrice(m, 'output'),
      cacheWrite5m: requiredPrice(m, 'cache_write_5m'),
      cacheWrite1h: requiredPrice(m, 'cache_write_1h'),
      cacheRead: requiredPrice(m, 'cache_read'),
    };
    const aliases = m.stringList('aliases');
    m.done();
    return { price, aliases };
  });
  modelsField.done();
  f.done();
  return new PricingTable(version, effectiveDate, models);
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
