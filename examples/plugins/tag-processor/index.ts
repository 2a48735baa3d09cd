/**
 * An example agentotel plugin: a processor of type "tag" that adds configured attributes to
 * every span. List this file under `plugins:` in the config and use it in a pipeline:
 *
 *   plugins: [../examples/plugins/tag-processor/index.ts]
 *   processors:
 *     tag:
 *       attributes: { deployment.environment: dev, team: platform }
 *
 * It imports agentotel only for types (erased at run time), as a plugin published on npm
 * would; see docs/plugins.md.
 */
import type { ProcessorFactory } from '../../../core/component.ts';
import type { Fields } from '../../../core/config/fields.ts';
import type { AnyValue, KeyValue, TracesData } from '../../../core/otlp/model.ts';

export interface TagConfig {
  attributes: Record<string, string | number | boolean>;
  /** Replace a value the span already has (default false: the span's own value wins). */
  overwrite: boolean;
}

function toAnyValue(v: string | number | boolean): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}

function parseConfig(fields: Fields): TagConfig {
  const map: Fields = fields.object('attributes');
  const attributes: TagConfig['attributes'] = {};
  for (const key of map.keys()) {
    const v = map.raw(key);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') map.fail(key, 'must be a string, number or boolean');
    attributes[key] = v;
  }
  if (Object.keys(attributes).length === 0) fields.fail('attributes', 'must name at least one attribute');
  const overwrite = fields.bool('overwrite', false);
  fields.done();
  return { attributes, overwrite };
}

function tag(existing: KeyValue[] | undefined, config: TagConfig): KeyValue[] {
  const attrs = [...(existing ?? [])];
  for (const [key, value] of Object.entries(config.attributes)) {
    const i = attrs.findIndex((kv) => kv.key === key);
    if (i < 0) attrs.push({ key, value: toAnyValue(value) });
    else if (config.overwrite) attrs[i] = { key, value: toAnyValue(value) };
  }
  return attrs;
}

export const factory: ProcessorFactory<TagConfig> = {
  kind: 'processor',
  type: 'tag',
  parseConfig,
  create: (config) => ({
    // A new message: the input object may be delivered again after a failure.
    processTraces: (data: TracesData): TracesData => ({
      resourceSpans: (data.resourceSpans ?? []).map((rs) => ({
        ...rs,
        scopeSpans: (rs.scopeSpans ?? []).map((ss) => ({
          ...ss,
          spans: (ss.spans ?? []).map((span) => ({ ...span, attributes: tag(span.attributes, config) })),
        })),
      })),
    }),
  }),
};

export default factory;
