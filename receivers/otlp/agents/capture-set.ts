/**
 * Collects what one OTLP request tells of agent sessions: the partial views each record or
 * span contributes are merged per span (same kind and key) and grouped per session, then
 * returned as SessionCaptures. Reused by every agent format of the OTLP receiver.
 *
 * Merging inside one request: the earliest start and latest end win, the first defined name,
 * parent and error win, attribute values set later replace earlier ones, events accumulate.
 */
import type { Attributes } from '../../../core/agent/genai.ts';
import type { AgentName, SessionCapture, SpanRef, SpanView, ViewEvent } from '../../../core/agent/session-spans.ts';

export type { Attributes };

/** What one record or span says about one span; `name` may be left to a later contribution. */
export type ViewPatch = Omit<SpanView, 'name'> & { name?: string };

const refKey = (ref: SpanRef) => `${ref.kind}\u0000${ref.key}`;
const min = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a <= b ? a : b);
const max = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a >= b ? a : b);

export class SessionViews {
  readonly resource: Attributes;
  private readonly views = new Map<string, ViewPatch>();

  constructor(resource: Attributes) {
    this.resource = { ...resource };
  }

  add(patch: ViewPatch): void {
    const key = refKey(patch.ref);
    const view = this.views.get(key);
    if (!view) {
      this.views.set(key, { ...patch, attributes: { ...patch.attributes }, events: [...(patch.events ?? [])] });
      return;
    }
    view.name ??= patch.name;
    view.parent ??= patch.parent;
    view.error ??= patch.error;
    view.startNs = min(view.startNs, patch.startNs);
    view.endNs = max(view.endNs, patch.endNs);
    for (const [k, v] of Object.entries(patch.attributes ?? {})) if (v !== undefined) view.attributes![k] = v;
    view.events!.push(...(patch.events ?? []));
  }

  /** Adds resource attributes the session's records carry (user, organization, …) where the resource has none. */
  addResource(attributes: Attributes): void {
    for (const [k, v] of Object.entries(attributes)) if (v !== undefined && this.resource[k] === undefined) this.resource[k] = v;
  }

  toViews(defaultName: (ref: SpanRef) => string): SpanView[] {
    return [...this.views.values()].map((v) => ({
      ...v,
      name: v.name ?? defaultName(v.ref),
      events: v.events!.length > 0 ? sortedEvents(v.events!) : undefined,
    }));
  }
}

function sortedEvents(events: ViewEvent[]): ViewEvent[] {
  return [...events].sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
}

export class CaptureSet {
  private readonly sessions = new Map<string, SessionViews>();

  constructor(
    private readonly agent: AgentName,
    private readonly defaultName: (ref: SpanRef) => string,
  ) {}

  /** The views of a session, created with `resource` on first use. */
  session(sessionId: string, resource: Attributes): SessionViews {
    let views = this.sessions.get(sessionId);
    if (!views) this.sessions.set(sessionId, (views = new SessionViews(resource)));
    return views;
  }

  captures(): SessionCapture[] {
    return [...this.sessions].map(([sessionId, views]) => ({
      agent: this.agent,
      sessionId,
      path: 'otel',
      resource: views.resource,
      views: views.toViews(this.defaultName),
    }));
  }
}
