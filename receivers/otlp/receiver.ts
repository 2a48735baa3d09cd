/** The OTLP receiver: the gRPC and HTTP servers its config enables, over one Ingest. */
import type { ComponentContext, NextConsumers, Receiver } from '../../core/component.ts';
import { log } from '../../core/log.ts';
import { bearerTokenCheck } from '../../core/http/auth.ts';
import type { OtlpReceiverConfig } from './config.ts';
import { OtlpGrpcServer } from './grpc-server.ts';
import { OtlpHttpServer } from './http-server.ts';
import { Ingest } from './ingest.ts';

type Server = OtlpGrpcServer | OtlpHttpServer;

export class OtlpReceiver implements Receiver {
  private readonly servers: Partial<Record<'grpc' | 'http', Server>> = {};
  private readonly bound: Record<string, string> = {};

  constructor(
    private readonly config: OtlpReceiverConfig,
    private readonly context: ComponentContext & { next: NextConsumers },
  ) {
    const ingest = new Ingest(context.id, context.next, context.metrics);
    const authorized = bearerTokenCheck(config.tokens);
    if (config.grpc) this.servers.grpc = new OtlpGrpcServer(context.id, config.grpc, ingest, authorized);
    if (config.http) this.servers.http = new OtlpHttpServer(context.id, config.http, ingest, authorized);
  }

  async start(): Promise<void> {
    try {
      for (const [protocol, server] of Object.entries(this.servers)) this.bound[protocol] = await server.start();
    } catch (err) {
      await this.shutdown();
      throw new Error(`receiver ${this.context.id}: cannot listen: ${(err as Error).message}`);
    }
    log('info', 'otlp receiver listening', { receiver: this.context.id, ...this.bound, auth: this.config.tokens.length > 0 });
  }

  async shutdown(): Promise<void> {
    await Promise.all(Object.values(this.servers).map((s) => s.shutdown()));
  }

  endpoints(): Record<string, string> {
    return { ...this.bound };
  }
}
