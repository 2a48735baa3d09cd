/** The hooks receiver's counters and gauges in the process registry, labelled with its config id. */
import type { MetricsRegistry } from '../../core/metrics.ts';

/** Why a request was not accepted (the `reason` label). */
export type RejectReason =
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'too_large'
  | 'invalid_body'
  | 'invalid_payload'
  | 'queue_full';

export class HookMetrics {
  private readonly labels: { receiver: string };

  constructor(
    private readonly registry: MetricsRegistry,
    receiver: string,
  ) {
    this.labels = { receiver };
  }

  accepted(agent: string, n: number): void {
    this.registry
      .counter('agentotel_hooks_accepted_total', 'hook payloads accepted (answered 200), per agent')
      .inc({ ...this.labels, agent }, n);
  }

  rejected(reason: RejectReason, n: number): void {
    this.registry.counter('agentotel_hooks_rejected_total', 'hook requests refused, per reason').inc({ ...this.labels, reason }, n);
  }

  spooled(payloads: number): void {
    this.registry.counter('agentotel_hooks_spooled_total', 'accepted hook payloads written to the disk spool').inc(this.labels, payloads);
  }

  published(payloads: number): void {
    this.registry.counter('agentotel_hooks_published_total', 'accepted hook payloads the pipeline acknowledged').inc(this.labels, payloads);
  }

  publishFailed(): void {
    this.registry.counter('agentotel_hooks_publish_failures_total', 'publishes to the pipeline that failed (retried)').inc(this.labels);
  }

  droppedSpan(): void {
    this.registry.counter('agentotel_hooks_dropped_spans_total', 'spans larger than the bus takes, dropped').inc(this.labels);
  }

  track(queued: () => number, spoolBytes: () => number): void {
    this.registry.gauge('agentotel_hooks_queue_payloads', 'accepted hook payloads waiting in memory').track(this.labels, queued);
    this.registry.gauge('agentotel_hooks_spool_bytes', 'bytes of hook payloads waiting in the disk spool').track(this.labels, spoolBytes);
  }
}
