/** The hooks receiver: agents' hook payloads over HTTP (Claude Code `"type": "http"` hooks) as session spans. */
import type { ReceiverFactory } from '../../core/component.ts';
import { type HooksReceiverConfig, parseConfig } from './config.ts';
import { HooksReceiver } from './receiver.ts';

export type { HooksReceiverConfig } from './config.ts';

export const hooksReceiverFactory: ReceiverFactory<HooksReceiverConfig> = {
  kind: 'receiver',
  type: 'hooks',
  signals: ['traces'],
  parseConfig,
  create: (config, context) => new HooksReceiver(config, context),
};
