import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/config/fields.ts';
import { BUNDLED_PRICING_FILE } from './index.ts';
import { loadPricingTable, normalizeModel } from './pricing.ts';

const bundled = loadPricingTable(BUNDLED_PRICING_FILE, 'k');
const ms = (date: string) => Date.parse(`${date}T12:00:00Z`);
const NOW = ms('2026-11-23');

describe('the bundled pricing table', () => {
  it('holds the Anthropic list prices of the 2026-08-21 snapshot', () => {
    expect(bundled.lookup('claude-sonnet-4-6', NOW)!.price).toMatchObject({
      input: 3,
      output: 15,
      cacheWrite5m: 3.75,
      cacheWrite1h: 6,
      cacheRead: 0.3,
    });
    expect(bundled.lookup('claude-opus-4-1', NOW)!.price).toMatchObject({
      input: 15,
      output: 75,
      cacheWrite5m: 18.75,
      cacheWrite1h: 30,
      cacheRead: 1.5,
    });
    expect(bundled.lookup('claude-haiku-4-5', NOW)!.price).toMatchObject({
      input: 1,
      output: 5,
      cacheWrite5m: 1.25,
      cacheWrite1h: 2,
      cacheRead: 0.1,
    });
    expect(bundled.lookup('claude-fable-5', NOW)!.price).toMatchObject({
      input: 10,
      output: 50,
      cacheWrite5m: 12.5,
      cacheWrite1h: 20,
      cacheRead: 1,
    });
  });

  it('holds OpenAI and Google models with their long-context tiers', () => {
    expect(bundled.lookup('gpt-5.5', NOW)!.price).toMatchObject({
      input: 5,
      output: 30,
      cacheRead: 0.5,
      longContext: { aboveInputTokens: 272_000, input: 10, output: 45 },
    });
    expect(bundled.lookup('gpt-5.4-mini', NOW)!.price).toMatchObject({ input: 0.75, output: 4.5, cacheRead: 0.075 });
    expect(bundled.lookup('gemini-3.1-pro-preview', NOW)!.price).toMatchObject({
      input: 2,
      output: 12,
      longContext: { aboveInputTokens: 200_000, input: 4, output: 18 },
    });
    expect(bundled.lookup('gemini-3.5-flash', NOW)!.model.provider).toBe('gcp.gemini');
  });

  it('names a source for every price', () => {
    for (const model of ['claude-opus-4-6', 'gpt-5.5', 'gemini-2.5-pro', 'claude-opus-5-5']) {
      for (const p of bundled.model(model)!.prices) expect(bundled.sources[p.source]).toBeTruthy();
    }
  });

  it('prices Opus 4.6 with the long-context tier before 2026-08-21 and without it after (effective dates)', () => {
    expect(bundled.lookup('claude-opus-4-6', ms('2026-05-01'))!.price).toMatchObject({
      from: '2026-02-06',
      longContext: { aboveInputTokens: 200_000 },
    });
    const after = bundled.lookup('claude-opus-4-6', ms('2026-08-21'))!.price;
    expect(after.from).toBe('2026-08-21');
    expect(after.longContext).toBeUndefined();
    // The oldest price also covers earlier spans, and spans that know no start (0).
    expect(bundled.lookup('claude-opus-4-6', 0)!.price.from).toBe('2026-02-06');
  });

  it('resolves date suffixes and aliases to their family, never guessing a version', () => {
    expect(bundled.model('claude-opus-4-1-20250805')!.model).toBe('claude-opus-4-1');
    expect(bundled.model('claude-opus-4-20250514')!.model).toBe('claude-opus-4');
    expect(bundled.model('claude-3-5-haiku-20241022')!.model).toBe('claude-haiku-3-5');
    expect(bundled.model('gpt-5.5-2026-04-23')!.model).toBe('gpt-5.5');
    expect(bundled.model('gpt-5.6-sol')!.model).toBe('gpt-5.6');
    expect(bundled.model('models/gemini-3.1-pro')!.model).toBe('gemini-3.1-pro-preview');
    expect(bundled.model('gpt-5.5-pro')!.model).toBe('gpt-5.5-pro');
    expect(bundled.model('claude-opus-5-6')).toBeUndefined();
    expect(bundled.model('gemini-3.8-flash')).toBeUndefined();
  });
});

describe('normalizeModel', () => {
  it.each([
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['anthropic/claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['Claude-Sonnet-4.5', 'claude-sonnet-4-5'],
    ['claude-opus-4-6[1m]', 'claude-opus-4-6'],
    ['gpt-5.4-mini-2026-03-17', 'gpt-5-4-mini'],
    ['openai/gpt-5.5', 'gpt-5-5'],
    ['models/gemini-3.5-flash', 'gemini-3-5-flash'],
    ['gemini-flash-latest', 'gemini-flash'],
  ])('%s → %s', (model, expected) => expect(normalizeModel(model)).toBe(expected));
});

describe('pricing file validation', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pricing-'));
  const ok = [
    'version: v1',
    'sources: { s: somewhere }',
    'models:',
    '  m1:',
    '    provider: p',
    '    prices:',
    '      - { from: 2026-01-01, source: s, input: 1, output: 2, cache_write_5m: 1.25, cache_write_1h: 2, cache_read: 0.1 }',
    '',
  ].join('\n');
  const load = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return () => loadPricingTable(path.join(dir, name), 'processors.enrichment.pricing_file');
  };

  it('loads a valid table', () => expect(load('ok.yaml', ok)().lookup('m1', 0)!.price).toMatchObject({ input: 1, source: 's' }));

  it.each([
    ['no-version.yaml', ok.replace('version: v1\n', ''), 'version: is required'],
    ['no-models.yaml', 'version: v1\nsources: {}\nmodels: {}\n', 'models: must list at least one model'],
    ['negative.yaml', ok.replace('input: 1,', 'input: -1,'), 'models.m1.prices[0].input: must be at least 0 (got -1)'],
    ['missing-rate.yaml', ok.replace(', cache_read: 0.1', ''), 'models.m1.prices[0].cache_read: is required'],
    ['typo.yaml', ok.replace('cache_read', 'cache_reads'), 'models.m1.prices[0].cache_read: is required'],
    ['bad-date.yaml', ok.replace('2026-01-01', '2026-13-01'), 'models.m1.prices[0].from: must be a date YYYY-MM-DD'],
    [
      'unknown-source.yaml',
      ok.replace('source: s,', 'source: x,'),
      'models.m1.prices[0].source: must be one of the table\'s sources (s) (got "x")',
    ],
    ['no-prices.yaml', ok.replace(/ {4}prices:[\s\S]*/, '    prices: []\n'), 'models.m1.prices: must be a list of at least one price'],
    [
      'unordered.yaml',
      ok + '      - { from: 2025-01-01, source: s, input: 1, output: 2, cache_write_5m: 1.25, cache_write_1h: 2, cache_read: 0.1 }\n',
      "models.m1.prices[1].from: must be after the previous price's (2026-01-01)",
    ],
    [
      'tier.yaml',
      ok.replace(
        'cache_read: 0.1 }',
        'cache_read: 0.1, long_context: { input: 2, output: 3, cache_write_5m: 1, cache_write_1h: 1, cache_read: 1 } }',
      ),
      'models.m1.prices[0].long_context.above_input_tokens: is required',
    ],
    [
      'alias-clash.yaml',
      ok +
        '  m2:\n    provider: p\n    aliases: [M1]\n    prices: [{ from: 2026-01-01, source: s, input: 1, output: 2, cache_write_5m: 1, cache_write_1h: 1, cache_read: 1 }]\n',
      'models.m2: "M1" also names m1',
    ],
    ['currency.yaml', ok + 'currency: EUR\n', 'currency: must be one of USD (got "EUR")'],
    ['bad-yaml.yaml', 'models: [', ''],
  ])('rejects %s naming the key', (name, text, msg) => {
    const f = load(name, text);
    expect(f).toThrow(ConfigError);
    expect(f).toThrow(`processors.enrichment.pricing_file: ${path.join(dir, name)}: ${msg}`);
  });

  it('names the config key when the file cannot be read', () => {
    expect(() => loadPricingTable(path.join(dir, 'missing.yaml'), 'processors.enrichment.pricing_file')).toThrow(
      'processors.enrichment.pricing_file: cannot read pricing file',
    );
  });
});
