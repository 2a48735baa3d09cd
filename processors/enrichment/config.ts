import type { Fields } from '../../core/config/fields.ts';

export interface EnrichmentConfig {
  /** The pricing table; relative paths resolve against the config file's directory. Unset: the bundled config/pricing.yaml. */
  pricingFile: string | undefined;
}

export function parseEnrichmentConfig(fields: Fields): EnrichmentConfig {
  const pricingFile = fields.optionalString('pricing_file');
  if (pricingFile !== undefined && pricingFile.trim() === '') fields.fail('pricing_file', 'must not be empty');
  fields.done();
  return { pricingFile };
}
