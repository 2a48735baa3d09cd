/** The enrichment processor: cost of model calls from the pricing table; team/user attribution. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessorFactory } from '../../core/component.ts';
import { parseEnrichmentConfig, type EnrichmentConfig } from './config.ts';
import { loadPricingTable } from './pricing.ts';
import { EnrichmentProcessor } from './processor.ts';

export type { EnrichmentConfig } from './config.ts';
export { EnrichmentProcessor } from './processor.ts';

/** The pricing table shipped with agentotel. */
export const BUNDLED_PRICING_FILE = fileURLToPath(new URL('../../config/pricing.yaml', import.meta.url));

export const enrichmentProcessorFactory: ProcessorFactory<EnrichmentConfig> = {
  kind: 'processor',
  type: 'enrichment',
  parseConfig: parseEnrichmentConfig,
  create: (config, context) => {
    const file = config.pricingFile === undefined ? BUNDLED_PRICING_FILE : path.resolve(context.configDir, config.pricingFile);
    return new EnrichmentProcessor(loadPricingTable(file, `processors.${context.id}.pricing_file`));
  },
};
