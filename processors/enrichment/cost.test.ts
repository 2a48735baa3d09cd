/** The cost of one model call, and the accounting traps users of other tools keep reporting. */
import { describe, expect, it } from 'vitest';
import { codexModelCallView } from '../../core/agent/codex.ts';
import { capturesToTraces } from '../../core/agent/session-spans.ts';
import { getNumber, getString } from '../../core/otlp/attributes.ts';
import { decodeJson, decodeProtobuf } from '../../core/otlp/codec.ts';
import type { LogsData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { fixturesDir, otlpCaptures } from '../../test/helpers/fixtures.ts';
import { readdirSync } from 'node:fs';
import { callCost, usageOf, type Usage } from './cost.ts';
import { BUNDLED_PRICING_FILE } from './index.ts';
import { loadPricingTable, type Price } from './pricing.ts';

const table = loadPricingTable(BUNDLED_PRICING_FILE, 'k');
const priceOf = (model: string): Price => table.lookup(model, Date.parse('2026-11-23'))!.price;
const usage = (u: Partial<Usage>): Usage => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, ...u });

describe('callCost', () => {
  it('prices every token category once: uncached input, output, 5-minute and 1-hour writes, reads', () => {
    // Sonnet 4.6: 10,000 input = 1,000 uncached + 6,000 read + 3,000 written (1,000 of them with the 1-hour TTL).
    // 1000·3 + 500·15 + 2000·3.75 + 1000·6 + 6000·0.3 = 3000 + 7500 + 7500 + 6000 + 1800 = 25,800 per MTok
    const cost = callCost(
      priceOf('claude-sonnet-4-6'),
      usage({ input: 10_000, output: 500, cacheRead: 6_000, cacheWrite: 3_000, cacheWrite1h: 1_000 }),
    );
    expect(cost).toEqual({ usd: 0.0258, tier: 'standard', inconsistent: false });
  });

  it('trap: 1-hour cache writes are priced at the 1-hour rate (2x input), not the 5-minute one (1.25x)', () => {
    const opus = priceOf('claude-opus-4-5');
    const all1h = callCost(opus, usage({ input: 100_000, cacheWrite: 100_000, cacheWrite1h: 100_000 }));
    const all5m = callCost(opus, usage({ input: 100_000, cacheWrite: 100_000 }));
    expect(all1h.usd).toBe(1); // 100,000 · $10
    expect(all5m.usd).toBe(0.625); // 100,000 · $6.25
  });

  it('trap: Codex cached input and reasoning are counted once (inside input and output), never added', () => {
    // The two responses of the Codex fixture baseline-shell (MANIFEST "What the scripted model did"), as the
    // capture paths describe them: input 6120 (0 cached), output 48 (16 reasoning); input 6302 (6016 cached), output 17.
    const spans = [
      { input: 6120, cached: 0, output: 48, reasoning: 16 },
      { input: 6302, cached: 6016, output: 17, reasoning: 0 },
    ].map((u) =>
      capturesToTraces([{ agent: 'codex', sessionId: 's', path: 'transcript', views: [codexModelCallView(u, undefined, 'gpt-5.5')] }]),
    );
    const [first, second] = spans.map((d) => callCost(priceOf('gpt-5.5'), usageOf([...eachSpan(d)][0]!.span.attributes)).usd);
    expect(first).toBe(0.03204); // 6120·5 + 48·30 = 32,040 per MTok (reasoning is part of the 48)
    expect(second).toBe(0.004948); // (6302−6016)·5 + 6016·0.5 + 17·30 = 1430 + 3008 + 510 = 4,948 per MTok
  });

  it('prices a prompt over the long-context threshold at the tier rates for all its tokens', () => {
    const gpt = priceOf('gpt-5.5');
    // 300,000 input (100,000 cached) > 272,000: 200,000·10 + 100,000·1 + 1,000·45 = 2,145,000 per MTok
    expect(callCost(gpt, usage({ input: 300_000, cacheRead: 100_000, output: 1_000 }))).toMatchObject({ usd: 2.145, tier: 'long_context' });
    // At the threshold itself the standard rates apply: 172,000·5 + 100,000·0.5 + 1,000·30
    expect(callCost(gpt, usage({ input: 272_000, cacheRead: 100_000, output: 1_000 }))).toMatchObject({ usd: 0.94, tier: 'standard' });
    // Sonnet 4.5 with the 1M beta: $6 / $22.50 above 200K input tokens.
    expect(callCost(priceOf('claude-sonnet-4-5'), usage({ input: 250_000, output: 10_000 })).usd).toBe(1.725);
  });

  it('flags usage whose input does not include the cache tokens, taking uncached input as 0', () => {
    expect(callCost(priceOf('claude-haiku-4-5'), usage({ input: 1, cacheRead: 1_000_000 }))).toEqual({
      usd: 0.1,
      tier: 'standard',
      inconsistent: true,
    });
  });

  it('the table prices every model call of the Claude Code fixtures as the CLI itself did (its api_request cost_usd)', () => {
    // claude-opus-5-5 at $4 in / $20 out / $5 5-minute write / $0.20 read, derived from these 25 calls.
    const calls = readdirSync(`${fixturesDir}/claude-code`).flatMap((scenario) =>
      otlpCaptures(`claude-code/${scenario}`)
        .filter((c) => c.signal === 'logs')
        .flatMap((c) => {
          const logs = (
            c.content_type === 'application/json' ? decodeJson('logs', c.body.toString('utf8')) : decodeProtobuf('logs', c.body)
          ) as LogsData;
          return (logs.resourceLogs ?? []).flatMap((rl) => (rl.scopeLogs ?? []).flatMap((sl) => sl.logRecords ?? []));
        })
        .filter((r) => getString(r.attributes, 'event.name') === 'api_request'),
    );
    expect(calls).toHaveLength(25);
    for (const { attributes: a } of calls) {
      const n = (key: string) => getNumber(a, key) ?? 0;
      const u = usage({
        input: n('input_tokens') + n('cache_read_tokens') + n('cache_creation_tokens'),
        output: n('output_tokens'),
        cacheRead: n('cache_read_tokens'),
        cacheWrite: n('cache_creation_tokens'),
        cacheWrite1h: n('cache_creation_1h_tokens'),
      });
      expect(callCost(table.lookup(getString(a, 'model')!, 0)!.price, u).usd).toBeCloseTo(n('cost_usd'), 12);
    }
  });
});
