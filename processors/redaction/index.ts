/** The redaction processor: privacy tiers, secret detectors, home paths, pseudonymous user ids. */
import type { ProcessorFactory } from '../../core/component.ts';
import { parseRedactionConfig, type RedactionConfig } from './config.ts';
import { RedactionProcessor } from './processor.ts';
import { pseudonymKey } from '../../core/pseudonym.ts';

export type { RedactionConfig } from './config.ts';
export { RedactionProcessor } from './processor.ts';

export const redactionProcessorFactory: ProcessorFactory<RedactionConfig> = {
  kind: 'processor',
  type: 'redaction',
  signals: ['traces', 'logs'],
  parseConfig: parseRedactionConfig,
  create: (config, context) => new RedactionProcessor(config, pseudonymKey(config.pseudonymize.key, context.dataDir), context.metrics),
};
