/** The transcripts receiver: tails coding agents' transcript files into session spans. */
import type { ReceiverFactory } from '../../core/component.ts';
import { parseConfig, type TranscriptsReceiverConfig } from './config.ts';
import { TranscriptsReceiver } from './receiver.ts';

export const transcriptsReceiverFactory: ReceiverFactory<TranscriptsReceiverConfig> = {
  kind: 'receiver',
  type: 'transcripts',
  signals: ['traces'],
  parseConfig,
  create: (config, context) => new TranscriptsReceiver(config, context),
};
export type { TranscriptsReceiverConfig } from './config.ts';
