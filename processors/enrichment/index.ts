/** The enrichment processor: cost of model calls from the pricing table, reconciliation, attribution, git context. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComponentContext, ProcessorFactory } from '../../core/component.ts';
import { KEY_FILE } from '../../core/pseudonym.ts';
import { AttributesReader } from './attributes-read.ts';
import { Attributor } from './attribution.ts';
import { parseEnrichmentConfig, type EnrichmentConfig } from './config.ts';
import { loadPricingTable } from './pricing.ts';
import { EnrichmentProcessor } from './processor.ts';
import { SpanPricer } from './span-pricer.ts';
import { loadTeamsMapping } from './teams.ts';
import { TraceFactsStore } from './trace-facts.ts';

export type { EnrichmentConfig } from './config.ts';
export { parseEnrichmentConfig } from './config.ts';
export { EnrichmentProcessor } from './processor.ts';
export { SpanPricer, isModelCall, isReportedTotal } from './span-pricer.ts';
export { EnrichAttr } from './attributes.ts';

/** The pricing table and team mapping shipped with agentotel. */
export const BUNDLED_PRICING_FILE = fileURLToPath(new URL('../../config/pricing.yaml', import.meta.url));
export const BUNDLED_TEAMS_FILE = fileURLToPath(new URL('../../config/teams.yaml', import.meta.url));

const configFile = (configured: string | undefined, bundled: string, configDir: string) =>
  configured === undefined ? bundled : path.resolve(configDir, configured);

/**
 * The key the redaction processor generates when none is configured, in its data directory
 * beside this processor's (`<data_dir>/redaction/pseudonym.key`).
 */
const redactionKeyFile = (context: ComponentContext) => path.join(path.dirname(context.dataDir), 'redaction', KEY_FILE);

/** The pricer of a config (the processor's, and `agentotel reprice`'s). */
export function spanPricer(config: EnrichmentConfig, context: Pick<ComponentContext, 'id' | 'configDir'>): SpanPricer {
  const file = configFile(config.pricingFile, BUNDLED_PRICING_FILE, context.configDir);
  return new SpanPricer(loadPricingTable(file, `processors.${context.id}.pricing_file`), config.reconciliation);
}

export const enrichmentProcessorFactory: ProcessorFactory<EnrichmentConfig> = {
  kind: 'processor',
  type: 'enrichment',
  parseConfig: parseEnrichmentConfig,
  create: (config, context) => {
    const teamsFile = configFile(config.teamsFile, BUNDLED_TEAMS_FILE, context.configDir);
    const mapping = loadTeamsMapping(teamsFile, `processors.${context.id}.teams_file`);
    const { pseudonymKey } = config.attribution;
    if (pseudonymKey !== undefined) mapping.withPseudonymKey(pseudonymKey);
    const labels = { processor: context.id };
    const { metrics } = context;
    return new EnrichmentProcessor({
      pricer: spanPricer(config, context),
      facts: new TraceFactsStore(config.maxTraces, new AttributesReader(config.attribution.keys)),
      attributor: new Attributor(mapping),
      metrics: {
        labels,
        priced: metrics.counter('agentotel_enrichment_priced_calls_total', 'Model calls priced from the pricing table'),
        unpriced: metrics.counter('agentotel_enrichment_unpriced_calls_total', 'Model calls of a model the pricing table does not know'),
        drift: metrics.counter('agentotel_enrichment_cost_drift_total', "Spans whose computed cost drifts from the agent's own figure"),
      },
      // By start() the redaction processor (earlier in the chain) has created its key.
      start: () => {
        if (pseudonymKey !== undefined || !mapping.hasUsers) return;
        try {
          mapping.withPseudonymKey(readFileSync(redactionKeyFile(context), 'utf8').trim());
        } catch {
          // no key file here (another machine, a configured key elsewhere): users match as written
        }
      },
      recentOutput: context.recentOutput,
    });
  },
};
