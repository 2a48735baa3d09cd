/**
 * What happens to accepted hook payloads after the 200: they wait in a bounded in-memory
 * queue and one background loop publishes them to the pipeline in small batches. When the
 * pipeline refuses, batches go to the disk spool and the loop retries with exponential
 * backoff, replaying the spool oldest first; while it is failing, new batches go straight to
 * the spool. Memory fills only while the spool cannot take more either; then `offer` refuses
 * (the endpoint answers 503). Entries left in the spool are replayed by the next start.
 */
import { capturesToTraces, type SessionCapture } from '../../core/agent/session-spans.ts';
import { DataTooLargeError } from '../../core/component.ts';
import { log } from '../../core/log.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import type { HookMetrics } from './hook-metrics.ts';
import type { Spool, SpoolEntry } from './spool.ts';

export interface ForwarderOptions {
  queueSize: number;
  batchSize: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

type Step = 'publish' | 'replay' | 'spool' | 'wait';

/** One capture per session of the batch (views concatenated): fewer resources and bus messages. */
function bySession(captures: SessionCapture[]): SessionCapture[] {
  const merged = new Map<string, SessionCapture>();
  const out: SessionCapture[] = [];
  for (const c of captures) {
    if (c.resource !== undefined) {
      out.push(c);
      continue;
    }
    const key = `${c.agent}\n${c.path}\n${c.sessionId}`;
    const seen = merged.get(key);
    if (seen) seen.views.push(...c.views);
    else {
      const copy = { ...c, views: [...c.views] };
      merged.set(key, copy);
      out.push(copy);
    }
  }
  return out;
}

export class Forwarder {
  private readonly pending: SessionCapture[] = [];
  private backoffMs: number;
  /** While the pipeline is failing: when to try it again. */
  private retryAt = 0;
  /** After the spool refused an entry (full or unwritable): when to try it again. */
  private spoolRetryAt = 0;
  private failing = false;
  /** Alternates spool replay and fresh batches when both wait, so neither starves. */
  private replayNext = false;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly receiverId: string,
    private readonly next: (data: TracesData) => Promise<void>,
    private readonly spool: Spool,
    private readonly options: ForwarderOptions,
    private readonly metrics: HookMetrics,
    /** Called with the number of captures that left memory (published or spooled). */
    private readonly released: (captures: number) => void,
  ) {
    this.backoffMs = options.retryInitialMs;
    metrics.track(
      () => this.pending.length,
      () => spool.bytes,
    );
  }

  /** Opens the spool; what a previous run left there is replayed first. */
  async start(): Promise<void> {
    await this.spool.open();
    if (this.spool.entries > 0) {
      log('info', 'hooks receiver: replaying spooled payloads', {
        receiver: this.receiverId,
        entries: this.spool.entries,
        bytes: this.spool.bytes,
      });
    }
    this.loop = this.run();
  }

  /** Queues an accepted capture; false when the memory queue is full. */
  offer(capture: SessionCapture): boolean {
    if (this.pending.length >= this.options.queueSize) return false;
    this.pending.push(capture);
    if (this.wake && this.step(Date.now()) !== 'wait') this.wake();
    return true;
  }

  /** Publishes (or, failing that, spools) what waits in memory; the spool stays for the next start. */
  async close(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private step(now: number): Step {
    const healthy = now >= this.retryAt;
    const waiting = this.pending.length;
    // While the pipeline fails, fresh payloads go to the spool a full batch at a time.
    const fresh =
      waiting === 0 ? undefined : healthy ? 'publish' : waiting >= this.options.batchSize && now >= this.spoolRetryAt ? 'spool' : undefined;
    if (healthy && this.spool.entries > 0 && (!fresh || this.replayNext)) return 'replay';
    return fresh ?? 'wait';
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const now = Date.now();
      const step = this.step(now);
      try {
        if (step === 'wait') await this.sleep(now < this.retryAt ? this.retryAt - now : undefined);
        else if (step === 'replay') await this.replayOne();
        else await this.forwardBatch(step === 'publish');
        if (step !== 'wait') this.replayNext = step !== 'replay';
      } catch (err) {
        // Only the spool's file operations can land here; the loop must outlive them.
        log('error', 'hooks receiver: spool failure', { receiver: this.receiverId, error: (err as Error).message });
        await this.sleep(this.options.retryInitialMs);
      }
    }
    await this.flush();
  }

  /** On shutdown: publish what waits in memory until the pipeline refuses, then spool the rest. */
  private async flush(): Promise<void> {
    let publish = !this.failing;
    while (this.pending.length > 0) {
      const before = this.pending.length;
      await this.forwardBatch(publish);
      if (this.pending.length >= before) break; // neither the pipeline nor the spool took it
      publish &&= !this.failing;
    }
    if (this.pending.length > 0) {
      log('error', 'hooks receiver: payloads lost at shutdown (pipeline unavailable, spool full or unwritable)', {
        receiver: this.receiverId,
        payloads: this.pending.length,
      });
    }
  }

  private async forwardBatch(publish: boolean): Promise<void> {
    const batch = this.pending.splice(0, this.options.batchSize);
    const entry: SpoolEntry = { payloads: batch.length, traces: capturesToTraces(bySession(batch)) };
    if ((publish && (await this.publish(entry))) || (await this.toSpool(entry))) return this.released(batch.length);
    this.pending.unshift(...batch); // kept in memory until the pipeline or the spool takes it
  }

  private async replayOne(): Promise<void> {
    const entry = await this.spool.head();
    if (entry && (await this.publish(entry))) {
      await this.spool.removeHead();
      this.spoolRetryAt = 0;
    }
  }

  private async toSpool(entry: SpoolEntry): Promise<boolean> {
    let problem: string;
    try {
      if (await this.spool.append(entry)) {
        this.metrics.spooled(entry.payloads);
        return true;
      }
      problem = 'spool full';
    } catch (err) {
      problem = (err as Error).message;
    }
    this.spoolRetryAt = Date.now() + this.backoffMs;
    log('error', 'hooks receiver: cannot spool payloads; holding them in memory', {
      receiver: this.receiverId,
      payloads: entry.payloads,
      spool: this.spool.dir,
      error: problem,
    });
    return false;
  }

  private async publish(entry: SpoolEntry): Promise<boolean> {
    try {
      await this.publishDroppingOversize(entry.traces);
    } catch (err) {
      this.metrics.publishFailed();
      if (!this.failing) {
        log('warn', 'hooks receiver: pipeline unavailable; spooling accepted payloads and retrying', {
          receiver: this.receiverId,
          error: (err as Error).message,
        });
      }
      this.failing = true;
      this.retryAt = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.retryMaxMs);
      return false;
    }
    this.metrics.published(entry.payloads);
    if (this.failing) log('info', 'hooks receiver: pipeline available again', { receiver: this.receiverId, spooled: this.spool.entries });
    this.failing = false;
    this.retryAt = 0;
    this.backoffMs = this.options.retryInitialMs;
    return true;
  }

  /** A span the bus can never take is dropped (and counted) rather than block every retry. */
  private async publishDroppingOversize(data: TracesData): Promise<void> {
    try {
      return await this.next(data);
    } catch (err) {
      if (!(err instanceof DataTooLargeError)) throw err;
    }
    for (const { resource, scope, span } of eachSpan(data)) {
      try {
        await this.next({ resourceSpans: [{ resource, scopeSpans: [{ scope, spans: [span] }] }] });
      } catch (err) {
        if (!(err instanceof DataTooLargeError)) throw err;
        this.metrics.droppedSpan();
        log('warn', 'hooks receiver: span too large for the bus, dropped', {
          receiver: this.receiverId,
          span: span.name,
          error: err.message,
        });
      }
    }
  }

  private sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      this.wake = done;
    });
  }
}
