/**
 * Folds the views a batch of transcript lines produced into one view per span. Parsers return
 * snapshots (every view of a span holds all the parser knew at that line), so the later view's
 * name, parent, attributes and error win; the earliest start and the latest end are kept, and
 * events are united. Captures of one session (agent, session id, capture path) become one.
 */
import type { SessionCapture, SpanView, ViewEvent } from '../../core/agent/session-spans.ts';
import type { AttributeValue } from '../../core/otlp/attributes.ts';

type Attributes = Record<string, AttributeValue | undefined>;

function mergeAttributes(a: Attributes | undefined, b: Attributes | undefined): Attributes | undefined {
  if (!a || !b) return a ?? b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = v;
  return out;
}

const eventKey = (e: ViewEvent) => `${e.name}\u0000${e.timeNs}\u0000${JSON.stringify(e.attributes ?? {})}`;

function mergeEvents(a: ViewEvent[] | undefined, b: ViewEvent[] | undefined): ViewEvent[] | undefined {
  if (!a || !b) return a ?? b;
  const byKey = new Map(a.map((e) => [eventKey(e), e]));
  for (const e of b) if (!byKey.has(eventKey(e))) byKey.set(eventKey(e), e);
  return [...byKey.values()];
}

const earliest = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a <= b ? a : b);
const latest = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a >= b ? a : b);

export function mergeViews(a: SpanView, b: SpanView): SpanView {
  return {
    ref: a.ref,
    parent: b.parent ?? a.parent,
    name: b.name,
    startNs: earliest(a.startNs, b.startNs),
    endNs: latest(a.endNs, b.endNs),
    attributes: mergeAttributes(a.attributes, b.attributes),
    events: mergeEvents(a.events, b.events),
    error: b.error ?? a.error,
  };
}

export function coalesce(captures: SessionCapture[]): SessionCapture[] {
  const bySession = new Map<string, { capture: SessionCapture; views: Map<string, SpanView> }>();
  for (const c of captures) {
    const key = `${c.agent}\u0000${c.sessionId}\u0000${c.path}`;
    let entry = bySession.get(key);
    if (!entry) bySession.set(key, (entry = { capture: { ...c, views: [] }, views: new Map() }));
    else entry.capture.resource = mergeAttributes(entry.capture.resource, c.resource);
    for (const v of c.views) {
      const ref = `${v.ref.kind}\u0000${v.ref.key}`;
      const seen = entry.views.get(ref);
      entry.views.set(ref, seen ? mergeViews(seen, v) : v);
    }
  }
  return [...bySession.values()].map(({ capture, views }) => ({ ...capture, views: [...views.values()] }));
}
