/**
 * What both transports do with a decoded request: check it, turn coding-agent telemetry into
 * session spans (agents/), hand the result to the next consumers (the bus), wait for every
 * acknowledgement, and count accepted and refused items per transport.
 */
import { DataTooLargeError, type NextConsumers } from '../../core/component.ts';
import { log } from '../../core/log.ts';
import type { MetricsRegistry } from '../../core/metrics.ts';
import type { LogsData, Signal, SignalData, TracesData } from '../../core/otlp/model.ts';
import { createAgentTelemetries } from './agents/index.ts';
import type { AgentTelemetry } from './agents/agent-telemetry.ts';
import { AgentRouter, type AgentCounts } from './agents/router.ts';
import { countItems, itemName } from './items.ts';
import type { PartialSuccess } from './responses.ts';
import { removeInvalidSpans } from './span-ids.ts';

export type Transport = 'grpc' | 'http';

/** The next consumer did not acknowledge: the client should retry later. */
export class NextUnavailableError extends Error {
  override name = 'NextUnavailableError';
}

/** One hand-over to a next consumer. */
type Output = { [S in Signal]: { signal: S; data: SignalData[S] } }[Signal];

export class Ingest {
  readonly signals: Signal[];
  private readonly agents: AgentRouter;

  constructor(
    private readonly receiverId: string,
    private readonly next: NextConsumers,
    private readonly metrics: MetricsRegistry,
    agentFormats: AgentTelemetry[] = createAgentTelemetries(),
  ) {
    this.signals = (['traces', 'logs', 'metrics'] as const).filter((s) => next[s] !== undefined);
    this.agents = new AgentRouter(agentFormats, receiverId);
  }

  /** Resolves with what to report as partial success, if anything was rejected. */
  async accept<S extends Signal>(signal: S, data: SignalData[S], transport: Transport): Promise<PartialSuccess | undefined> {
    if (!this.next[signal]) throw new Error(`receiver ${this.receiverId} has no ${signal} pipeline`);
    let partial: PartialSuccess | undefined;
    if (signal === 'traces') {
      const checked = removeInvalidSpans(data as TracesData);
      data = checked.data as SignalData[S];
      partial = checked.partial;
    }
    const labels = { receiver: this.receiverId, transport };
    if (partial) this.count('refused', signal, labels, partial.rejected);
    const items = countItems(signal, data);
    if (items === 0) return partial;
    const { outputs, agents } = this.route(signal, data);
    try {
      await this.deliver(outputs);
    } catch (err) {
      this.count('refused', signal, labels, items);
      if (err instanceof DataTooLargeError) throw err;
      log('warn', 'otlp receiver: next consumer refused data', { receiver: this.receiverId, signal, items, error: (err as Error).message });
      throw new NextUnavailableError(`the pipeline cannot accept ${signal} right now; retry later`);
    }
    this.count('accepted', signal, labels, items);
    this.countAgents(signal, agents);
    return partial;
  }

  /**
   * What goes to which consumer: agents' logs become session spans when there is a traces
   * pipeline (else they stay logs), agents' spans are mapped onto session spans; metrics and
   * everything else go on unchanged. Outputs without items are left out.
   */
  private route(signal: Signal, data: SignalData[Signal]): { outputs: Output[]; agents?: AgentCounts } {
    const nonEmpty = (outputs: Output[]) => outputs.filter((o) => countItems(o.signal, o.data) > 0);
    if (signal === 'traces') {
      const split = this.agents.traces(data as TracesData);
      return { outputs: nonEmpty([{ signal, data: split.traces }]), agents: split.counts };
    }
    if (signal === 'logs' && this.next.traces) {
      const split = this.agents.logs(data as LogsData);
      const outputs: Output[] = [
        { signal: 'logs', data: split.logs },
        { signal: 'traces', data: split.traces },
      ];
      return { outputs: nonEmpty(outputs), agents: split.counts };
    }
    return { outputs: [{ signal, data } as Output] };
  }

  /** Resolves once every consumer acknowledged; rejects (after all have answered) when one did not. */
  private async deliver(outputs: Output[]): Promise<void> {
    const results = await Promise.allSettled(
      outputs.map((o) => (this.next[o.signal] as (data: SignalData[Signal]) => Promise<void>)(o.data)),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) throw failures.find((e) => e instanceof DataTooLargeError) ?? failures[0];
  }

  private countAgents(signal: Signal, agents: AgentCounts | undefined): void {
    const counter = this.metrics.counter(
      `agentotel_receiver_agent_${itemName[signal]}_total`,
      `coding-agent ${itemName[signal].replace('_', ' ')} the receiver turned into session spans (converted) or passed on as they were (kept)`,
    );
    for (const [agent, n] of agents ?? []) {
      counter.inc({ receiver: this.receiverId, agent, outcome: 'converted' }, n.converted);
      counter.inc({ receiver: this.receiverId, agent, outcome: 'kept' }, n.kept);
    }
  }

  private count(outcome: 'accepted' | 'refused', signal: Signal, labels: Record<string, string>, n: number): void {
    const item = itemName[signal];
    this.metrics
      .counter(`agentotel_receiver_${outcome}_${item}_total`, `${item.replace('_', ' ')} ${outcome} by the receiver, per transport`)
      .inc(labels, n);
  }
}
