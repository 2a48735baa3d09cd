import { describe, expect, it } from 'vitest';
import { ConfigError, Fields } from '../../../core/config/fields.ts';
import { MetricsRegistry } from '../../../core/metrics.ts';
import type { TracesData } from '../../../core/otlp/model.ts';
import { factory } from './index.ts';

const parseAt = (raw: unknown) => factory.parseConfig(new Fields(raw, 'processors.tag'));
const create = (raw: unknown) =>
  factory.create(parseAt(raw), { id: 'tag', dataDir: '/nonexistent', configDir: '.', metrics: new MetricsRegistry(), recentOutput: async function* () {} });

const input = (): TracesData => ({
  resourceSpans: [
    {
      scopeSpans: [
        {
          spans: [
            { traceId: 'a'.repeat(32), spanId: '1'.repeat(16), name: 'a', startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [{ key: 'team', value: { stringValue: 'own' } }] },
            { traceId: 'a'.repeat(32), spanId: '2'.repeat(16), name: 'b', startTimeUnixNano: '1', endTimeUnixNano: '2' },
          ],
        },
      ],
    },
  ],
});
const spans = (d: TracesData) => d.resourceSpans![0]!.scopeSpans![0]!.spans!;

describe('example tag-processor plugin', () => {
  it('is what the plugin loader registers: the named export factory (also the default)', async () => {
    const mod = (await import('./index.ts')) as Record<string, unknown>;
    expect(mod.factory ?? mod.default).toBe(factory);
    expect(mod.default).toBe(factory);
    expect(factory).toMatchObject({ kind: 'processor', type: 'tag' });
  });

  it('adds the configured attributes to every span, keeping values a span already has', async () => {
    const data = input();
    const out = await create({ attributes: { team: 'platform', 'deployment.environment': 'dev', tier: 2, debug: true } }).processTraces(data);
    expect(spans(out)[0]!.attributes).toEqual([
      { key: 'team', value: { stringValue: 'own' } },
      { key: 'deployment.environment', value: { stringValue: 'dev' } },
      { key: 'tier', value: { intValue: '2' } },
      { key: 'debug', value: { boolValue: true } },
    ]);
    expect(spans(out)[1]!.attributes![0]).toEqual({ key: 'team', value: { stringValue: 'platform' } });
    expect(data).toEqual(input()); // the input is left as it was
  });

  it('replaces existing values with overwrite: true', async () => {
    const out = await create({ attributes: { team: 'platform' }, overwrite: true }).processTraces(input());
    expect(spans(out).map((s) => s.attributes)).toEqual([[{ key: 'team', value: { stringValue: 'platform' } }], [{ key: 'team', value: { stringValue: 'platform' } }]]);
  });

  it.each([
    [{}, new ConfigError('processors.tag.attributes', 'must name at least one attribute')],
    [{ attributes: 'team=x' }, new ConfigError('processors.tag.attributes', 'must be a mapping (got "team=x")')],
    [{ attributes: { team: ['a'] } }, new ConfigError('processors.tag.attributes.team', 'must be a string, number or boolean')],
    [{ attributes: { team: 'a' }, overwrite: 'yes' }, new ConfigError('processors.tag.overwrite', 'must be true or false (got "yes")')],
    [{ attributes: { team: 'a' }, tags: {} }, new ConfigError('processors.tag.tags', 'unknown key')],
  ])('rejects %j naming the key', (raw, error) => {
    expect(() => parseAt(raw)).toThrow(error);
  });
});
