/** The built-in components of this distribution, and the lookup that adds plugins to them. */
import type { ComponentFactory } from '../core/component.ts';
import { ConfigError } from '../core/config/fields.ts';
import { otlpReceiverFactory } from '../receivers/otlp/index.ts';
import { hooksReceiverFactory } from '../receivers/hooks/index.ts';
import { transcriptsReceiverFactory } from '../receivers/transcripts/index.ts';
import { redactionProcessorFactory } from '../processors/redaction/index.ts';
import { enrichmentProcessorFactory } from '../processors/enrichment/index.ts';
import { dedupeProcessorFactory } from '../processors/dedupe/index.ts';
import { clickhouseExporterFactory } from '../exporters/clickhouse/index.ts';
import type { FactoryLookup } from './config.ts';

export const builtinFactories: ComponentFactory[] = [
  otlpReceiverFactory,
  hooksReceiverFactory,
  transcriptsReceiverFactory,
  redactionProcessorFactory,
  enrichmentProcessorFactory,
  dedupeProcessorFactory,
  clickhouseExporterFactory,
];

export function factoryLookup(plugins: ComponentFactory[] = []): FactoryLookup {
  const byKey = new Map<string, ComponentFactory>();
  for (const f of [...builtinFactories, ...plugins]) {
    const key = `${f.kind}:${f.type}`;
    if (byKey.has(key)) throw new ConfigError('plugins', `two ${f.kind} factories have type "${f.type}"`);
    byKey.set(key, f);
  }
  return (kind, type) => byKey.get(`${kind}:${type}`);
}
