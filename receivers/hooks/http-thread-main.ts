/**
 * The entry of the hooks endpoint's own thread (started by http-thread.ts). The endpoint
 * answers on this thread, so an acknowledgement never waits for the pipeline's work on the
 * main thread (in embedded mode every processor and the exporter share that event loop).
 * Accepted captures go to the main thread in one message per event-loop turn; the thread may
 * hand over as many as the receiver granted it credits (room in its memory queue).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AgentName, SessionCapture } from '../../core/agent/session-spans.ts';
import { bearerTokenCheck } from '../../core/http/auth.ts';
import type { RejectReason } from './hook-metrics.ts';
import { HooksHttpServer, type Intake } from './http-server.ts';
import type { EndpointThreadConfig, FromEndpointThread, ToEndpointThread } from './thread-messages.ts';

const port = parentPort!;
const config = workerData as EndpointThreadConfig;
const post = (message: FromEndpointThread) => port.postMessage(message);

class ThreadIntake implements Intake {
  private captures: SessionCapture[] = [];
  private acceptedCounts: Record<string, number> = {};
  private rejectedCounts: Partial<Record<RejectReason, number>> = {};
  private scheduled = false;

  constructor(private credits: number) {}

  grant(n: number): void {
    this.credits += n;
  }

  offer(capture: SessionCapture): boolean {
    if (this.credits === 0) return false;
    this.credits--;
    this.captures.push(capture);
    this.schedule();
    return true;
  }

  accepted(agent: AgentName): void {
    this.acceptedCounts[agent] = (this.acceptedCounts[agent] ?? 0) + 1;
    this.schedule();
  }

  rejected(reason: RejectReason): void {
    this.rejectedCounts[reason] = (this.rejectedCounts[reason] ?? 0) + 1;
    this.schedule();
  }

  /** Hands over what was accepted since the last call. */
  flush(): void {
    this.scheduled = false;
    if (this.captures.length === 0 && Object.keys(this.acceptedCounts).length === 0 && Object.keys(this.rejectedCounts).length === 0)
      return;
    post({ type: 'intake', captures: this.captures, accepted: this.acceptedCounts, rejected: this.rejectedCounts });
    this.captures = [];
    this.acceptedCounts = {};
    this.rejectedCounts = {};
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }
}

const intake = new ThreadIntake(config.credits);
const server = new HooksHttpServer(config.receiverId, config, bearerTokenCheck(config.tokens), intake);

port.on('message', (message: ToEndpointThread) => {
  if (message.type === 'credits') return intake.grant(message.n);
  void server.shutdown().then(() => {
    intake.flush();
    post({ type: 'closed' });
    port.close();
  });
});

server.start().then(
  (address) => post({ type: 'listening', address }),
  (err: Error) => {
    post({ type: 'failed', message: err.message });
    port.close();
  },
);
