/**
 * What the hooks receiver asks of each agent's hook payloads: one payload (the JSON the agent
 * posts or pipes to a hook) becomes the views it tells of one session. Hook payloads carry no
 * timestamp, so the receiver passes the time it received the payload.
 *
 * Also what every agent's hook format is built from: the payload read as a Hook, a converter per
 * hook event, and the session span events of what the converters do not understand.
 */
import { sessionView, type Attributes } from '../../core/agent/genai.ts';
import { AgentAttr, type AgentName, type SessionCapture, type SpanView } from '../../core/agent/session-spans.ts';

export type Payload = Record<string, unknown>;

export interface HookFormat {
  agent: AgentName;
  /** Throws HookPayloadError when the payload cannot name a session (no session id). */
  toCapture(payload: Payload, receivedNs: bigint): SessionCapture;
}

/** A payload that can never become spans however often it is sent: answered with 400. */
export class HookPayloadError extends Error {
  override name = 'HookPayloadError';
}

/** Attributes of hook views besides the GenAI conventions'. */
export const HookAttr = {
  cwd: 'agentotel.cwd',
  transcriptPath: 'agentotel.transcript_path',
  permissionMode: 'agentotel.permission_mode',
  sessionSource: 'agentotel.session.source',
  sessionEndReason: 'agentotel.session.end_reason',
  toolOutcome: 'agentotel.tool.outcome',
  toolInterrupted: 'agentotel.tool.interrupted',
  toolCallIds: 'agentotel.tool.call.ids',
  toolCallCount: 'agentotel.tool.call.count',
  /** The field a known event lacked to name its span (it is kept as a session span event instead). */
  missingField: 'agentotel.hook.missing_field',
  /** Top-level field names of a payload the converter did not understand (never their values). */
  hookFields: 'agentotel.hook.fields',
} as const;

/** A non-empty string, else undefined. */
export const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** One received payload and what its views are built from. */
export class Hook {
  readonly event: string;

  constructor(
    readonly payload: Payload,
    readonly sessionId: string,
    /** The time its views take. */
    readonly at: bigint,
  ) {
    this.event = text(payload.hook_event_name) ?? '(no hook_event_name)';
  }

  field(name: string): string | undefined {
    return text(this.payload[name]);
  }

  /** The scalar fields named, for a span event of a known event. */
  details(names: string[]): Attributes {
    const out: Attributes = {};
    for (const name of names) {
      const v = this.payload[name];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = v;
    }
    return out;
  }
}

/**
 * Attributes of the session span event kept for an event the converter does not know, or for a
 * known one without the key (`missing`) its span needs.
 */
export function unknownEventAttributes(h: Hook, missing?: string): Attributes {
  return {
    [AgentAttr.unknownEvent]: missing === undefined ? h.event : undefined,
    [HookAttr.missingField]: missing,
    [HookAttr.hookFields]: Object.keys(h.payload).sort().join(','),
  };
}

/** The hook as a span event of the session (for agents whose session view is the GenAI one). */
export function sessionEvent(agent: AgentName, h: Hook, attributes: Attributes): SpanView {
  return sessionView(agent, h.sessionId, { endNs: h.at, events: [{ name: h.event, timeNs: h.at, attributes }] });
}

/** SessionStart of agents whose session view is the GenAI one: cwd, transcript and source, and `more`. */
export function sessionStart(agent: AgentName, h: Hook, more: Attributes = {}): SpanView[] {
  const attributes = {
    ...more,
    [HookAttr.cwd]: h.field('cwd'),
    [HookAttr.transcriptPath]: h.field('transcript_path'),
    [HookAttr.sessionSource]: h.field('source'),
  };
  return [sessionView(agent, h.sessionId, { startNs: h.at, attributes })];
}

/** SessionEnd of agents whose session view is the GenAI one. */
export function sessionEnd(agent: AgentName, h: Hook): SpanView[] {
  return [sessionView(agent, h.sessionId, { endNs: h.at, attributes: { [HookAttr.sessionEndReason]: h.field('reason') } })];
}

/** A hook format: the payload read by `hook`, converted by its event's converter, else by `unknown`. */
export function hookFormat<H extends Hook>(
  agent: AgentName,
  spec: {
    hook: (payload: Payload, sessionId: string, receivedNs: bigint) => H;
    converters: Record<string, (h: H) => SpanView[]>;
    unknown: (h: H) => SpanView[];
  },
): HookFormat {
  return {
    agent,
    toCapture(payload: Payload, receivedNs: bigint): SessionCapture {
      const sessionId = text(payload.session_id);
      if (sessionId === undefined) throw new HookPayloadError('the hook payload has no session_id (a non-empty string)');
      const hook = spec.hook(payload, sessionId, receivedNs);
      const convert = Object.hasOwn(spec.converters, hook.event) ? spec.converters[hook.event]! : spec.unknown;
      return { agent, sessionId, path: 'hooks', views: convert(hook) };
    },
  };
}
