/**
 * Claude Code's native telemetry as session views: its log events (claude-code-events.ts) and
 * its beta spans (claude-code-spans.ts). Metrics are not converted: they go to the metrics
 * pipeline as they are.
 *
 * State, bounded and in memory:
 * - Claude Code's spans do not carry the prompt id; its log records do, with the trace id of the
 *   interaction span. The prompt id of the last 10,000 traces is remembered, and up to 1,000
 *   interaction spans that arrived before their logs wait for it.
 * - A tool_decision record carries the id of the span that waited for the decision
 *   (claude_code.tool.blocked_on_user), which may be exported before its tool span.
 * - Sessions with work (a prompt, a model call or a tool call) are remembered (10,000): only
 *   their session-level records (hooks without a prompt id, compaction, …) extend the session.
 *   `claude --continue` logs its start-up under a transient session id before it resumes the
 *   real one; a session of start-up records only is no session, its records stay logs.
 * A receiver restart, or logs and spans of one session reaching different receiver replicas,
 * loses only precision: a waiting interaction stays an event of the session span.
 */
import { promptView } from '../../../core/agent/genai.ts';
import type { SessionCapture } from '../../../core/agent/session-spans.ts';
import type { LogRecord, Resource, ResourceLogs, ResourceSpans, Span } from '../../../core/otlp/model.ts';
import type { AgentTelemetry } from './agent-telemetry.ts';
import { BoundedMap } from '../../../core/agent/bounded-map.ts';
import { CaptureSet } from './capture-set.ts';
import { AGENT, defaultName, SERVICE_NAMES } from './claude-code-attributes.ts';
import { addEventViews, isWork, readEvent, spanTargetOf, type ClaudeEvent } from './claude-code-events.ts';
import { mapSpans, type NativeLinks, type PendingInteraction, type SpanTarget } from './claude-code-spans.ts';
import { AttributeReader } from './otlp-values.ts';

const KNOWN_TRACES = 10_000;
const KNOWN_SPANS = 10_000;
const KNOWN_SESSIONS = 10_000;
const PENDING_INTERACTIONS = 1_000;

const spanKey = (traceId: string, spanId: string) => `${traceId}/${spanId}`;

export class ClaudeCodeTelemetry implements AgentTelemetry {
  readonly agent = AGENT;
  private readonly promptOfTrace = new BoundedMap<string, string>(KNOWN_TRACES);
  private readonly targetOfSpan = new BoundedMap<string, SpanTarget>(KNOWN_SPANS);
  private readonly sessionsAtWork = new BoundedMap<string, true>(KNOWN_SESSIONS);
  private readonly pending = new BoundedMap<string, PendingInteraction>(PENDING_INTERACTIONS);
  private readonly links: NativeLinks = {
    promptOf: (traceId) => this.promptOfTrace.get(traceId),
    spanTarget: (traceId, spanId) => this.targetOfSpan.get(spanKey(traceId, spanId)),
    awaitPrompt: (traceId, pending) => this.pending.set(traceId, pending),
    atWork: (sessionId) => {
      const known = this.sessionsAtWork.get(sessionId) !== undefined;
      this.sessionsAtWork.set(sessionId, true);
      return !known;
    },
  };

  owns(resource: Resource | undefined): boolean {
    const service = new AttributeReader(resource?.attributes).string('service.name');
    return service !== undefined && SERVICE_NAMES.has(service);
  }

  logs(resourceLogs: ResourceLogs): { captures: SessionCapture[]; rest: LogRecord[] } {
    const resource = new AttributeReader(resourceLogs.resource?.attributes);
    const resourceAttrs = resource.pick(() => true);
    const captures = new CaptureSet(AGENT, defaultName);
    const rest: LogRecord[] = [];
    const events: [LogRecord, ClaudeEvent | undefined][] = [];
    const learnt = new Map<string, string>();
    const started = new Set<string>();
    for (const scope of resourceLogs.scopeLogs ?? []) {
      for (const record of scope.logRecords ?? []) {
        const event = readEvent(record, resource);
        events.push([record, event]);
        if (!event) continue;
        if (isWork(event) && this.links.atWork(event.sessionId)) started.add(event.sessionId);
        if (record.traceId && event.promptId) learnt.set(record.traceId, event.promptId);
        const target = spanTargetOf(event);
        if (target && record.traceId && record.spanId) this.targetOfSpan.set(spanKey(record.traceId, record.spanId), target);
      }
    }
    for (const [record, event] of events) {
      const views = event && this.sessionsAtWork.get(event.sessionId) ? captures.session(event.sessionId, resourceAttrs) : undefined;
      const used = event && views && addEventViews(event, views, started.has(event.sessionId));
      if (!used) rest.push(record);
    }
    for (const [traceId, promptId] of learnt) {
      this.promptOfTrace.set(traceId, promptId);
      const waiting = this.pending.take(traceId);
      if (waiting) captures.session(waiting.sessionId, waiting.resource).add(promptView(waiting.sessionId, promptId, waiting.prompt));
    }
    return { captures: captures.captures(), rest };
  }

  spans(resourceSpans: ResourceSpans): { captures: SessionCapture[]; rest: Span[] } {
    const resource = new AttributeReader(resourceSpans.resource?.attributes);
    const captures = new CaptureSet(AGENT, defaultName);
    const spans = (resourceSpans.scopeSpans ?? []).flatMap((s) => s.spans ?? []);
    const rest = mapSpans(spans, resource, captures, this.links);
    return { captures: captures.captures(), rest };
  }
}
