/**
 * Runs the hooks endpoint on its own thread (http-thread-main.ts) and relays to the main
 * thread what it accepted. The thread answers requests only while it holds credits: the
 * receiver grants one for every capture that left its memory queue.
 */
import { Worker } from 'node:worker_threads';
import { log } from '../../core/log.ts';
import type { EndpointThreadConfig, FromEndpointThread } from './thread-messages.ts';

export type IntakeMessage = Extract<FromEndpointThread, { type: 'intake' }>;

// A worker thread does not inherit the main thread's TypeScript loader: it registers tsx first.
const BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => tsx.register())
  .then(() => import(${JSON.stringify(new URL('./http-thread-main.ts', import.meta.url).href)}));`;

export class EndpointThread {
  private worker: Worker | undefined;
  private stopping = false;
  private closed: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: EndpointThreadConfig,
    private readonly onIntake: (message: IntakeMessage) => void,
  ) {}

  /** Resolves with the bound address (host:port) once the thread listens. */
  start(): Promise<string> {
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: this.config });
    this.worker = worker;
    let markClosed!: () => void;
    this.closed = new Promise((resolve) => (markClosed = resolve));
    return new Promise((resolve, reject) => {
      worker.on('message', (message: FromEndpointThread) => {
        if (message.type === 'intake') this.onIntake(message);
        else if (message.type === 'listening') resolve(message.address);
        else if (message.type === 'failed') reject(new Error(message.message));
        else markClosed();
      });
      worker.on('error', (err: Error) => {
        reject(err);
        log('error', 'hooks receiver: the endpoint thread failed; hooks are not received until a restart', {
          receiver: this.config.receiverId,
          error: err.message,
        });
      });
      worker.on('exit', (code) => {
        markClosed();
        reject(new Error(`the endpoint thread exited with code ${code}`));
        if (!this.stopping && code !== 0)
          log('error', 'hooks receiver: the endpoint thread exited', { receiver: this.config.receiverId, code });
      });
    });
  }

  grant(n: number): void {
    this.worker?.postMessage({ type: 'credits', n });
  }

  /** Closes the endpoint; resolves once every capture it accepted was handed over. */
  async shutdown(): Promise<void> {
    if (!this.worker || this.stopping) return this.closed;
    this.stopping = true;
    this.worker.postMessage({ type: 'shutdown' });
    await this.closed;
  }
}
