/**
 * The hooks receiver: the HTTP endpoint on its own thread in front (http-thread.ts), the
 * forwarder (memory queue, spool, publishing) behind it on the main thread.
 */
import path from 'node:path';
import type { ComponentContext, NextConsumers, Receiver } from '../../core/component.ts';
import { log } from '../../core/log.ts';
import type { HooksReceiverConfig } from './config.ts';
import { Forwarder } from './forwarder.ts';
import { HookMetrics, type RejectReason } from './hook-metrics.ts';
import { EndpointThread, type IntakeMessage } from './http-thread.ts';
import { Spool } from './spool.ts';

export class HooksReceiver implements Receiver {
  private readonly metrics: HookMetrics;
  private readonly forwarder: Forwarder;
  private readonly endpoint: EndpointThread;
  private bound: string | undefined;

  constructor(
    private readonly config: HooksReceiverConfig,
    private readonly context: ComponentContext & { next: NextConsumers },
  ) {
    const publish = context.next.traces;
    if (!publish) throw new Error(`receiver ${context.id}: hooks become traces; put it in a traces pipeline`);
    this.metrics = new HookMetrics(context.metrics, context.id);
    const spool = new Spool(path.join(context.dataDir, 'spool'), config.spoolMaxSize);
    this.forwarder = new Forwarder(context.id, publish, spool, config, this.metrics, (n) => this.endpoint.grant(n));
    this.endpoint = new EndpointThread(
      {
        receiverId: context.id,
        endpoint: config.endpoint,
        maxBodySize: config.maxBodySize,
        tokens: config.tokens,
        credits: config.queueSize,
      },
      (message) => this.take(message),
    );
  }

  async start(): Promise<void> {
    await this.forwarder.start();
    try {
      this.bound = await this.endpoint.start();
    } catch (err) {
      await this.endpoint.shutdown();
      await this.forwarder.close();
      throw new Error(`receiver ${this.context.id}: cannot listen: ${(err as Error).message}`);
    }
    log('info', 'hooks receiver listening', { receiver: this.context.id, http: this.bound, auth: this.config.tokens.length > 0 });
  }

  /** No new requests; what was accepted is published, or spooled for the next start. */
  async shutdown(): Promise<void> {
    await this.endpoint.shutdown();
    await this.forwarder.close();
  }

  endpoints(): Record<string, string> {
    return this.bound ? { http: this.bound } : {};
  }

  private take(message: IntakeMessage): void {
    for (const capture of message.captures) {
      // The endpoint holds a credit for each capture it hands over, so the queue has room.
      if (!this.forwarder.offer(capture))
        log('error', 'hooks receiver: capture over the queue size dropped', { receiver: this.context.id });
    }
    for (const [agent, n] of Object.entries(message.accepted)) this.metrics.accepted(agent, n);
    for (const [reason, n] of Object.entries(message.rejected)) this.metrics.rejected(reason as RejectReason, n!);
  }
}
