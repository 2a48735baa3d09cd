/**
 * Splits an OTLP request between the agent formats: the resources a format owns have their
 * log records or spans turned into session spans; what the format does not use, and every
 * resource no format owns, goes on unchanged (same resource, scope and record objects).
 */
import { capturesToTraces, type SessionCapture } from '../../../core/agent/session-spans.ts';
import { log } from '../../../core/log.ts';
import type { LogRecord, LogsData, ResourceLogs, ResourceSpans, Span, TracesData } from '../../../core/otlp/model.ts';
import type { AgentTelemetry } from './agent-telemetry.ts';

/** Per agent: how many of its records or spans became views, and how many went on as they were. */
export type AgentCounts = Map<string, { converted: number; kept: number }>;

export interface SplitLogs {
  /** The agents' session spans (no resourceSpans when there are none). */
  traces: TracesData;
  logs: LogsData;
  counts: AgentCounts;
}

export interface SplitTraces {
  traces: TracesData;
  counts: AgentCounts;
}

function keepOnly<T>(items: T[] | undefined, kept: Set<T>): T[] {
  return (items ?? []).filter((item) => kept.has(item));
}

export class AgentRouter {
  constructor(
    private readonly formats: AgentTelemetry[],
    private readonly receiverId: string,
  ) {}

  logs(data: LogsData): SplitLogs {
    const captures: SessionCapture[] = [];
    const counts: AgentCounts = new Map();
    const resourceLogs: ResourceLogs[] = [];
    for (const rl of data.resourceLogs ?? []) {
      const split = this.convert(
        rl,
        counts,
        (format) => format.logs(rl),
        (r) => r.scopeLogs?.reduce((n, s) => n + (s.logRecords?.length ?? 0), 0) ?? 0,
      );
      if (!split) {
        resourceLogs.push(rl);
        continue;
      }
      captures.push(...split.captures);
      const rest = new Set<LogRecord>(split.rest);
      const scopeLogs = (rl.scopeLogs ?? [])
        .map((s) => ({ ...s, logRecords: keepOnly(s.logRecords, rest) }))
        .filter((s) => s.logRecords.length > 0);
      if (scopeLogs.length > 0) resourceLogs.push({ ...rl, scopeLogs });
    }
    return { traces: capturesToTraces(captures), logs: { resourceLogs }, counts };
  }

  traces(data: TracesData): SplitTraces {
    const captures: SessionCapture[] = [];
    const counts: AgentCounts = new Map();
    const resourceSpans: ResourceSpans[] = [];
    for (const rs of data.resourceSpans ?? []) {
      const split = this.convert(
        rs,
        counts,
        (format) => format.spans(rs),
        (r) => r.scopeSpans?.reduce((n, s) => n + (s.spans?.length ?? 0), 0) ?? 0,
      );
      if (!split) {
        resourceSpans.push(rs);
        continue;
      }
      captures.push(...split.captures);
      const rest = new Set<Span>(split.rest);
      const scopeSpans = (rs.scopeSpans ?? []).map((s) => ({ ...s, spans: keepOnly(s.spans, rest) })).filter((s) => s.spans.length > 0);
      if (scopeSpans.length > 0) resourceSpans.push({ ...rs, scopeSpans });
    }
    resourceSpans.push(...(capturesToTraces(captures).resourceSpans ?? []));
    return { traces: { resourceSpans }, counts };
  }

  /**
   * The owning format's split of one resource; undefined when no format owns it, or when the
   * format failed on it (a bug must not lose data: the resource then goes on unchanged).
   */
  private convert<R extends ResourceLogs | ResourceSpans, I>(
    resource: R,
    counts: AgentCounts,
    split: (format: AgentTelemetry) => { captures: SessionCapture[]; rest: I[] },
    size: (r: R) => number,
  ): { captures: SessionCapture[]; rest: I[] } | undefined {
    const format = this.formats.find((f) => f.owns(resource.resource));
    if (!format) return undefined;
    const total = size(resource);
    const count = counts.get(format.agent) ?? { converted: 0, kept: 0 };
    counts.set(format.agent, count);
    try {
      const result = split(format);
      count.converted += total - result.rest.length;
      count.kept += result.rest.length;
      return result;
    } catch (err) {
      count.kept += total;
      log('warn', 'otlp receiver: agent telemetry not converted, passed on as it is', {
        receiver: this.receiverId,
        agent: format.agent,
        error: (err as Error).message,
      });
      return undefined;
    }
  }
}
