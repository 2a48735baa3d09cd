/**
 * The canonical spans of a coding-agent session (DESIGN.md "Identity"). Whatever captured a
 * session — hooks, its transcript, the agent's own telemetry — each converter describes what it
 * saw as *views*: a session, prompt, model call, tool call or subagent named by the agent's own
 * natural key. Every path names the same thing with the same trace and span id, so the dedupe
 * processor can merge the views of one span into one row.
 *
 *   trace id  = hash(agent, session id)
 *   span id   = hash(trace id, kind, natural key)
 *     session     key = session id            invoke_agent {agent}         (root)
 *     prompt      key = prompt id             prompt                       (child of session / subagent)
 *     model_call  key = API request id        chat {model}                 (child of prompt)
 *     tool_call   key = tool_use id           execute_tool {tool}          (child of prompt)
 *     subagent    key = agent id              invoke_agent {subagent type} (child of the tool call that spawned it)
 */
import { spanIdFor, traceIdFor } from '../ids.ts';
import { toAnyValue, type AttributeValue } from '../otlp/attributes.ts';
import { SpanKind, StatusCode, type KeyValue, type Span, type SpanEvent, type TracesData } from '../otlp/model.ts';

export type AgentName = 'claude-code' | 'codex' | 'gemini-cli';
export type CapturePath = 'hooks' | 'transcript' | 'otel';
export type AgentSpanKind = 'session' | 'prompt' | 'model_call' | 'tool_call' | 'subagent';

/** Attributes this distribution sets on agent spans besides the GenAI conventions'. */
export const AgentAttr = {
  /** Comma list of the capture paths whose views a span carries ("hooks,otel,transcript"). */
  capturePath: 'agentotel.capture.path',
  spanKind: 'agentotel.span.kind',
  /** Which of the span's times the view really knows: "start", "end" or "both". Merging reads it. */
  timeKnown: 'agentotel.time.known',
  /** 1 for the first write of a span; a later merge that adds to it writes it again with 2, 3, … */
  version: 'agentotel.span.version',
  /**
   * The privacy tier redaction applied to a view. Views of one span may be redacted at different
   * tiers (a path that cannot tell the team gets the lowest); the merged span keeps the content of
   * each, so it records the highest.
   */
  redactionTier: 'agentotel.redaction.tier',
  /** Names of events the converter did not understand, kept as span events (never an error). */
  unknownEvent: 'agentotel.unknown_event',
} as const;

/**
 * The value of an attribution attribute (team, user, project) that no capture path could tell.
 * It is a placeholder, not a fact: merging views never lets it override a real value.
 */
export const UNASSIGNED = 'unassigned';

export interface SpanRef {
  kind: AgentSpanKind;
  key: string;
}

export interface ViewEvent {
  name: string;
  timeNs: bigint;
  attributes?: Record<string, AttributeValue | undefined>;
}

/** What one capture path knows about one span. Unknown fields stay undefined. */
export interface SpanView {
  ref: SpanRef;
  /** The enclosing span; absent for the session root (and when the path cannot tell). */
  parent?: SpanRef;
  name: string;
  startNs?: bigint;
  endNs?: bigint;
  /** undefined values are left out. */
  attributes?: Record<string, AttributeValue | undefined>;
  events?: ViewEvent[];
  /** Set when the path knows the operation failed. */
  error?: string;
}

/** The views one capture path produced for one session. */
export interface SessionCapture {
  agent: AgentName;
  sessionId: string;
  path: CapturePath;
  /** Resource attributes (service.name, team, user, host, …) as the path knows them. */
  resource?: Record<string, AttributeValue | undefined>;
  views: SpanView[];
}

export function sessionTraceId(agent: AgentName, sessionId: string): string {
  return traceIdFor(agent, sessionId);
}

export function agentSpanId(traceId: string, ref: SpanRef): string {
  return spanIdFor(traceId, ref.kind, ref.key);
}

const OTLP_KIND: Record<AgentSpanKind, number> = {
  session: SpanKind.INTERNAL,
  prompt: SpanKind.INTERNAL,
  model_call: SpanKind.CLIENT,
  tool_call: SpanKind.INTERNAL,
  subagent: SpanKind.INTERNAL,
};

function keyValues(attrs: Record<string, AttributeValue | undefined> | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== '') out.push({ key, value: toAnyValue(v) });
  return out;
}

function timeKnown(view: SpanView): string {
  if (view.startNs !== undefined && view.endNs !== undefined) return 'both';
  return view.startNs !== undefined ? 'start' : view.endNs !== undefined ? 'end' : 'none';
}

function toSpan(capture: SessionCapture, traceId: string, view: SpanView): Span {
  const start = view.startNs ?? view.endNs ?? 0n;
  const end = view.endNs ?? start;
  const events: SpanEvent[] = (view.events ?? []).map((e) => ({
    name: e.name,
    timeUnixNano: String(e.timeNs),
    attributes: keyValues(e.attributes),
  }));
  return {
    traceId,
    spanId: agentSpanId(traceId, view.ref),
    parentSpanId: view.parent ? agentSpanId(traceId, view.parent) : undefined,
    name: view.name,
    kind: OTLP_KIND[view.ref.kind],
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(end < start ? start : end),
    attributes: keyValues({
      'gen_ai.conversation.id': capture.sessionId,
      ...view.attributes,
      [AgentAttr.spanKind]: view.ref.kind,
      [AgentAttr.capturePath]: capture.path,
      [AgentAttr.timeKnown]: timeKnown(view),
    }),
    events: events.length > 0 ? events : undefined,
    status: view.error !== undefined ? { code: StatusCode.ERROR, message: view.error } : undefined,
  };
}

/** One resource per capture (agent + session + path), scope "agentotel/<path>". */
export function capturesToTraces(captures: SessionCapture[]): TracesData {
  return {
    resourceSpans: captures
      .filter((c) => c.views.length > 0)
      .map((c) => {
        const traceId = sessionTraceId(c.agent, c.sessionId);
        return {
          resource: { attributes: keyValues({ 'service.name': c.agent, ...c.resource }) },
          scopeSpans: [{ scope: { name: `agentotel/${c.path}` }, spans: c.views.map((v) => toSpan(c, traceId, v)) }],
        };
      }),
  };
}

/** Nanoseconds since the epoch of an ISO-8601 timestamp or epoch milliseconds; undefined when unreadable. */
export function toNs(time: string | number | undefined): bigint | undefined {
  if (time === undefined || time === '') return undefined;
  const ms = typeof time === 'number' ? time : Date.parse(time);
  return Number.isFinite(ms) ? BigInt(Math.round(ms * 1_000)) * 1_000n : undefined;
}
