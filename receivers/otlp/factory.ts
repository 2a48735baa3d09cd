import type { ReceiverFactory } from '../../core/component.ts';
import { type OtlpReceiverConfig, parseConfig } from './config.ts';
import { OtlpReceiver } from './receiver.ts';

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: 'receiver',
  type: 'otlp',
  signals: ['traces', 'logs', 'metrics'],
  parseConfig,
  create: (config, context) => new OtlpReceiver(config, context),
};
