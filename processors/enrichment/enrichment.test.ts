import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { KeyValue, Span, TracesData } from '../../core/otlp/model.ts';
import { attributesToMap, toAnyValue, type AttributeValue } from '../../core/otlp/attributes.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { BUNDLED_PRICING_FILE, enrichmentProcessorFactory } from './index.ts';
import { costUsd, loadPricingTable, normalizeModel } from './pricing.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const testdata = (name: string) => parse(readFileSync(path.join(here, 'testdata', name), 'utf8')) as unknown;
const parseAt = (raw: unknown) => enrichmentProcessorFactory.parseConfig(new Fields(raw, 'processors.enrichment'));

function processor(raw: Record<string, unknown> = {}, configDir = here) {
  return enrichmentProcessorFactory.create(parseAt(raw), {
    id: 'enrichment',
    dataDir: tmpdir(),
    configDir,
    metrics: new MetricsRegistry(),
    recentOutput: async function* () {},
  });
}

const attrs = (o: Record<string, AttributeValue>): KeyValue[] => Object.entries(o).map(([key, v]) => ({ key, value: toAnyValue(v) }));
const message = (spanAttrs: Record<string, AttributeValue>[], resource: Record<string, AttributeValue> = {}): TracesData => ({
  resourceSpans: [
    {
      resource: { attributes: attrs(resource) },
      scopeSpans: [{ spans: spanAttrs.map((a, i): Span => ({ traceId: 'a'.repeat(32), spanId: `${i + 1}`.padStart(16, '0'), name: 'chat', startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: attrs(a) })) }],
    },
  ],
});
const enriched = async (data: TracesData, raw: Record<string, unknown> = {}) =>
  [...eachSpan(await processor(raw).processTraces(data))].map((c) => attributesToMap(c.span.attributes));

const call = (model: string, usage: Partial<Record<'input' | 'output' | 'read' | 'creation' | 'creation1h', number>>): Record<string, AttributeValue> => ({
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'anthropic',
  'gen_ai.request.model': model,
  'gen_ai.usage.input_tokens': usage.input ?? 0,
  'gen_ai.usage.output_tokens': usage.output ?? 0,
  ...(usage.read !== undefined ? { 'gen_ai.usage.cache_read.input_tokens': usage.read } : {}),
  ...(usage.creation !== undefined ? { 'gen_ai.usage.cache_creation.input_tokens': usage.creation } : {}),
  ...(usage.creation1h !== undefined ? { 'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens': usage.creation1h } : {}),
});

describe('enrichment config', () => {
  it('parses testdata/valid.yaml and loads the table it names', () => {
    const config = parseAt(testdata('valid.yaml'));
    expect(config.pricingFile).toBe('../../../config/pricing.yaml');
    // Relative to the directory of the config file that holds it.
    expect(() => processor(testdata('valid.yaml') as Record<string, unknown>, path.join(here, 'testdata'))).not.toThrow();
  });

  it('rejects testdata/invalid.yaml naming the key', () => {
    expect(() => parseAt(testdata('invalid.yaml'))).toThrow(new ConfigError('processors.enrichment.pricing_file', 'must be a string (got a list)'));
  });

  it.each([
    [{ pricing_file: '' }, 'processors.enrichment.pricing_file: must not be empty'],
    [{ pricing: 'x' }, 'processors.enrichment.pricing: unknown key'],
  ])('rejects %j', (raw, msg) => expect(() => parseAt(raw)).toThrow(msg));
});

describe('pricing table', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pricing-'));
  const file = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return name;
  };
  const ok = 'version: v1\neffective_date: 2026-01-01\nmodels:\n  m1: { input: 1, output: 2, cache_write_5m: 1.25, cache_write_1h: 2, cache_read: 0.1 }\n';

  it('the bundled table holds the Anthropic list prices', () => {
    const table = loadPricingTable(BUNDLED_PRICING_FILE, 'k');
    expect(table.version).toBe('anthropic-2026-08-21');
    expect(table.lookup('claude-sonnet-4-5')).toMatchObject({ input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 });
    expect(table.lookup('claude-opus-4-1')).toMatchObject({ input: 15, output: 75, cacheWrite5m: 18.75, cacheWrite1h: 30, cacheRead: 1.5 });
    expect(table.lookup('claude-haiku-4-5')).toMatchObject({ input: 1, output: 5, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 });
  });

  it('loads pricing_file relative to the config directory', async () => {
    const p = processor({ pricing_file: file('ok.yaml', ok) }, dir);
    const [span] = [...eachSpan(await p.processTraces(message([call('m1', { input: 1_000_000 })])))].map((c) => attributesToMap(c.span.attributes));
    expect(span).toMatchObject({ 'agentotel.cost.usd': '1', 'agentotel.pricing.version': 'v1' });
  });

  it.each([
    ['missing.yaml', null, 'processors.enrichment.pricing_file: cannot read pricing file'],
    ['bad-yaml.yaml', 'models: [', 'bad-yaml.yaml: '],
    ['no-version.yaml', ok.replace('version: v1\n', ''), 'no-version.yaml: version: is required'],
    ['no-models.yaml', 'version: v1\neffective_date: x\nmodels: {}\n', 'no-models.yaml: models: must list at least one model'],
    ['negative.yaml', ok.replace('input: 1,', 'input: -1,'), 'negative.yaml: models.m1.input: must be at least 0 (got -1)'],
    ['missing-price.yaml', ok.replace(', cache_read: 0.1', ''), 'missing-price.yaml: models.m1.cache_read: is required'],
    ['typo.yaml', ok.replace('cache_read', 'cache_reads'), 'typo.yaml: models.m1.cache_read: is required'],
    ['currency.yaml', ok + 'currency: EUR\n', 'currency.yaml: currency: must be one of USD (got "EUR")'],
  ])('rejects %s naming the key', (name, text, msg) => {
    if (text !== null) file(name, text);
    expect(() => processor({ pricing_file: name }, dir)).toThrow(ConfigError);
    expect(() => processor({ pricing_file: name }, dir)).toThrow(msg);
  });

  it.each([
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['anthropic/claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['Claude-Sonnet-4.5', 'claude-sonnet-4-5'],
    ['claude-opus-4-6[1m]', 'claude-opus-4-6'],
    ['claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
  ])('normalises %s', (model, expected) => expect(normalizeModel(model)).toBe(expected));

  it('does not confuse versions: claude-opus-4-1 is not claude-opus-4, claude-opus-5-5 is unknown', () => {
    const table = loadPricingTable(BUNDLED_PRICING_FILE, 'k');
    expect(table.lookup('claude-opus-4-1-20250805')!.model).toBe('claude-opus-4-1');
    expect(table.lookup('claude-opus-4-20250514')!.model).toBe('claude-opus-4');
    expect(table.lookup('claude-3-5-haiku-20241022')!.model).toBe('claude-haiku-3-5');
    expect(table.lookup('claude-opus-5-5')).toBeUndefined();
  });

  it('prices every token category, 1-hour cache writes at the 1-hour rate', () => {
    const sonnet = { model: 's', input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 };
    // 10,000 input = 1,000 uncached + 6,000 read + 3,000 written (1,000 of them with the 1h TTL).
    // 1000*3 + 500*15 + 2000*3.75 + 1000*6 + 6000*0.3 = 3000 + 7500 + 7500 + 6000 + 1800 = 25,800 per MTok
    expect(costUsd(sonnet, { input: 10_000, output: 500, cacheRead: 6_000, cacheCreation: 3_000, cacheCreation1h: 1_000 })).toBe(0.0258);
  });
});

describe('enrichment processor', () => {
  it('prices Anthropic model calls, subtracting cache tokens from input', async () => {
    // The first call of the g-secrets capture (3 in, 66 out, 14,420 cache writes) as Opus 4.5:
    // 3*5 + 66*25 + 14420*6.25 = 91,790 per MTok. input_tokens includes the cache writes.
    const [span] = await enriched(message([call('claude-opus-4-5-20251101', { input: 14_423, output: 66, read: 0, creation: 14_420 })]));
    expect(span).toMatchObject({
      'agentotel.cost.usd': '0.09179',
      'agentotel.pricing.version': 'anthropic-2026-08-21',
      'agentotel.pricing.model': 'claude-opus-4-5',
    });
    expect(span!['agentotel.cost.unpriced']).toBeUndefined();
  });

  it('prefers the response model and prices 1-hour writes from the documented attribute', async () => {
    const attrsIn = { ...call('claude-sonnet-4-5', { input: 10_000, output: 500, read: 6_000, creation: 3_000, creation1h: 1_000 }), 'gen_ai.response.model': 'claude-sonnet-4-5-20250929' };
    const [span] = await enriched(message([attrsIn]));
    expect(span!['agentotel.cost.usd']).toBe('0.0258');
  });

  it('flags an unknown model as unpriced, never $0', async () => {
    const [unknown, missing] = await enriched(message([call('claude-opus-5-5', { input: 6, output: 615 }), { 'gen_ai.usage.output_tokens': 5 }]));
    for (const span of [unknown, missing]) {
      expect(span!['agentotel.cost.unpriced']).toBe('true');
      expect(span!['agentotel.cost.usd']).toBeUndefined();
      expect(span!['agentotel.pricing.version']).toBe('anthropic-2026-08-21');
    }
  });

  it('flags usage whose input does not include the cache tokens', async () => {
    const [span] = await enriched(message([call('claude-haiku-4-5', { input: 1, output: 0, read: 1_000_000 })]));
    expect(span).toMatchObject({ 'agentotel.cost.usd': '0.1', 'agentotel.cost.usage_inconsistent': 'true' });
  });

  it('does not price agent or tool spans (their usage is a total) nor spans without usage', async () => {
    const spans = await enriched(message([{ ...call('claude-sonnet-4-5', { input: 100, output: 100 }), 'gen_ai.operation.name': 'invoke_agent' }, { 'gen_ai.operation.name': 'execute_tool' }]));
    for (const span of spans) {
      expect(span['agentotel.cost.usd']).toBeUndefined();
      expect(span['agentotel.cost.unpriced']).toBeUndefined();
    }
  });

  it('attributes every span to the team and user of its resource, else unassigned', async () => {
    const [a] = await enriched(message([{}], { team: 'platform', 'user.email': 'anon_1', 'user.id': 'u' }));
    expect(a).toMatchObject({ 'agentotel.team': 'platform', 'agentotel.user': 'anon_1' });
    const [b] = await enriched(message([{}], { 'user.id': 'u-7' }));
    expect(b).toMatchObject({ 'agentotel.team': 'unassigned', 'agentotel.user': 'u-7' });
    const [c] = await enriched(message([{ 'user.id': 'u-span' }]));
    expect(c).toMatchObject({ 'agentotel.team': 'unassigned', 'agentotel.user': 'u-span' });
  });

  it('leaves its input untouched', async () => {
    const input = message([call('claude-sonnet-4-5', { input: 10, output: 10 })], { team: 't' });
    const before = structuredClone(input);
    await processor().processTraces(input);
    expect(input).toEqual(before);
  });

  it('leaves its input untouched when a span already carries the attributes it sets (a message processed again)', async () => {
    const input = message([{ ...call('claude-sonnet-4-5', { input: 10, output: 10 }), 'agentotel.team': 'old', 'agentotel.cost.usd': 99 }], { team: 't' });
    const before = structuredClone(input);
    const [span] = await enriched(input);
    expect(span).toMatchObject({ 'agentotel.team': 't' });
    expect(span!['agentotel.cost.usd']).not.toBe('99');
    expect(input).toEqual(before);
  });
});
