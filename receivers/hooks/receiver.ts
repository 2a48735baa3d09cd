/** The hooks receiver: the HTTP endpoint in front, the forwarder (queue, spool, publishing) behind. */
import path from 'node:path';
import type { ComponentContext, NextConsumers, Receiver } from '../../core/component.ts';
import { log } from '../../core/log.ts';
import { bearerTokenCheck } from '../otlp/auth.ts';
import type { HooksReceiverConfig } from './config.ts';
import { Forwarder } from './forwarder.ts';
import { HookMetrics } from './hook-metrics.ts';
import { HooksHttpServer } from './http-server.ts';
import { Spool } from './spool.ts';

export class HooksReceiver implements Receiver {
  private readonly forwarder: Forwarder;
  private readonly server: HooksHttpServer;
  private bound: string | undefined;

  constructor(
    private readonly config: HooksReceiverConfig,
    private readonly context: ComponentContext & { next: NextConsumers },
  ) {
    const publish = context.next.traces;
    if (!publish) throw new Error(`receiver ${context.id}: hooks become traces; put it in a traces pipeline`);
    const metrics = new HookMetrics(context.metrics, context.id);
    const spool = new Spool(path.join(context.dataDir, 'spool'), config.spoolMaxSize);
    this.forwarder = new Forwarder(context.id, publish, spool, config, metrics);
    this.server = new HooksHttpServer(context.id, config, bearerTokenCheck(config.tokens), this.forwarder, metrics);
  }

  async start(): Promise<void> {
    await this.forwarder.start();
    try {
      this.bound = await this.server.start();
    } catch (err) {
      await this.forwarder.close();
      throw new Error(`receiver ${this.context.id}: cannot listen: ${(err as Error).message}`);
    }
    log('info', 'hooks receiver listening', { receiver: this.context.id, http: this.bound, auth: this.config.tokens.length > 0 });
  }

  /** No new requests; what was accepted is published, or spooled for the next start. */
  async shutdown(): Promise<void> {
    await this.server.shutdown();
    await this.forwarder.close();
  }

  endpoints(): Record<string, string> {
    return this.bound ? { http: this.bound } : {};
  }
}
