/**
 * Claude Code's beta spans (OTEL_TRACES_EXPORTER=otlp + CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1,
 * scope com.anthropic.claude_code.tracing) mapped onto the canonical session spans, so they
 * merge with the views of its log events, hooks and transcript instead of being stored twice:
 *
 *   claude_code.interaction         prompt view (key prompt.id, learnt from the trace's log records)
 *   claude_code.llm_request         model call view (key request_id)
 *   claude_code.tool                tool call view (key tool_use_id)
 *   claude_code.tool.execution      outcome, error and an event of its tool call
 *   any other claude_code.* span    (tool.blocked_on_user, hook, …) an event of the canonical
 *                                   span a log record logged inside it names (tool_decision →
 *                                   its tool call), else of its nearest canonical ancestor, else
 *                                   of the prompt, else of the session
 *
 * The interaction span does not carry the prompt id; the trace's log records do (`prompt.id`
 * with the interaction's trace id). When the logs have not told it yet, the interaction becomes
 * an event of the session and waits (bounded) for them: once they arrive it becomes the prompt
 * view too. Spans of other names, or without a session id, pass through unchanged.
 */
import { GenAiAttr, type ViewFields, promptView, sessionRef, toolCallView, toolOutcome } from '../../../core/agent/genai.ts';
import type { SpanRef } from '../../../core/agent/session-spans.ts';
import { StatusCode, type Span } from '../../../core/otlp/model.ts';
import type { Attributes, CaptureSet } from './capture-set.ts';
import {
  addSessionView,
  extrasOf,
  inputMessages,
  modelCall,
  modelCallAttributes,
  TOOL_KEYS,
  toolName,
  toolUseId,
} from './claude-code-attributes.ts';
import { AttributeReader, nanos } from './otlp-values.ts';

export interface PendingInteraction {
  sessionId: string;
  resource: Attributes;
  /** The prompt view it becomes once the prompt id is known. */
  prompt: ViewFields;
}

/** A canonical span, with its name when known. */
export interface SpanTarget {
  ref: SpanRef;
  name?: string;
}

/** What the log records told of Claude Code's own traces and spans (claude-code.ts keeps it). */
export interface NativeLinks {
  /** The prompt id of a Claude Code trace (one trace per interaction), once its log records told it. */
  promptOf(traceId: string): string | undefined;
  /** The canonical span a native span belongs to, when a log record logged inside it told it. */
  spanTarget(traceId: string, spanId: string): SpanTarget | undefined;
  /** Keeps an interaction whose prompt id is not known yet. */
  awaitPrompt(traceId: string, pending: PendingInteraction): void;
  /** Notes a session that has work (its later session-level log records then extend it); true when it is new. */
  atWork(sessionId: string): boolean;
}

const PREFIX = 'claude_code.';
const INTERACTION_KEYS: ReadonlySet<string> = new Set(['user_prompt']);
const EXECUTION_KEYS: ReadonlySet<string> = new Set(['tool_use_id', 'gen_ai.tool.call.id']);

/** Maps the spans of one resource; returns the spans it does not map. */
export function mapSpans(spans: Span[], resource: AttributeReader, captures: CaptureSet, links: NativeLinks): Span[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  /** Per session: whether this request is the first in which it is seen at work (it claims the start). */
  const sessionStarts = new Map<string, boolean>();
  const rest: Span[] = [];
  const resourceAttrs = resource.pick(() => true);

  const canonicalRef = (span: Span, attrs = new AttributeReader(span.attributes)): SpanRef | undefined => {
    if (span.name === 'claude_code.interaction') {
      const promptId = links.promptOf(span.traceId);
      return promptId ? { kind: 'prompt', key: promptId } : undefined;
    }
    if (span.name === 'claude_code.llm_request') {
      const key = attrs.string('request_id') ?? attrs.string('gen_ai.response.id');
      return key ? { kind: 'model_call', key } : undefined;
    }
    if (span.name === 'claude_code.tool' || span.name === 'claude_code.tool.execution') {
      const key = toolUseId(attrs);
      return key ? { kind: 'tool_call', key } : undefined;
    }
    return undefined;
  };

  /**
   * The canonical span of the nearest ancestor that has one other than `own` (a
   * tool.execution's tool span is its own): an ancestor in this request, or the first one not
   * in it as the logs told; else the trace's prompt when known.
   */
  const parentOf = (span: Span, own?: SpanRef): SpanRef | undefined => {
    const seen = new Set<string>();
    for (let id = span.parentSpanId; id && !seen.has(id);) {
      seen.add(id);
      const ancestor = byId.get(id);
      const ref = ancestor ? canonicalRef(ancestor) : links.spanTarget(span.traceId, id)?.ref;
      if (ref && !(own && ref.kind === own.kind && ref.key === own.key)) return ref;
      id = ancestor?.parentSpanId;
    }
    const promptId = links.promptOf(span.traceId);
    return promptId ? { kind: 'prompt', key: promptId } : undefined;
  };

  for (const span of spans) {
    const attrs = new AttributeReader(span.attributes);
    const sessionId = attrs.string('session.id') ?? attrs.string('gen_ai.conversation.id');
    const startNs = nanos(span.startTimeUnixNano);
    const endNs = nanos(span.endTimeUnixNano) ?? startNs;
    if (!span.name.startsWith(PREFIX) || !sessionId || startNs === undefined) {
      rest.push(span);
      continue;
    }
    if (!sessionStarts.has(sessionId)) sessionStarts.set(sessionId, links.atWork(sessionId));
    const views = captures.session(sessionId, resourceAttrs);
    const session = sessionRef(sessionId);
    addSessionView(views, sessionId, attrs, resource, { startNs: sessionStarts.get(sessionId) ? startNs : undefined, endNs });
    const times = { startNs, endNs };
    const failed = span.status?.code === StatusCode.ERROR || attrs.boolean('success') === false;
    const error = failed ? span.status?.message || attrs.string('error') || 'error' : undefined;
    const ownEvents = (span.events ?? []).flatMap((e) => {
      const timeNs = nanos(e.timeUnixNano);
      return timeNs === undefined ? [] : [{ name: e.name ?? '', timeNs, attributes: new AttributeReader(e.attributes).pick(() => true) }];
    });
    const extras = (mapped?: ReadonlySet<string>) => extrasOf(attrs, resource, mapped);
    const asEvent = (host: SpanTarget, attributes: Attributes = extras()) =>
      views.add({ ...host, endNs, events: [{ name: span.name, timeNs: startNs, attributes: { ...attributes, error } }] });
    const ref = canonicalRef(span, attrs);

    if (span.name === 'claude_code.interaction') {
      const prompt: ViewFields = {
        ...times,
        error,
        attributes: { [GenAiAttr.inputMessages]: inputMessages(attrs.string('user_prompt')), ...extras(INTERACTION_KEYS) },
        events: ownEvents,
      };
      if (ref) views.add(promptView(sessionId, ref.key, prompt));
      else {
        asEvent({ ref: session }, { ...extras(INTERACTION_KEYS), 'claude_code.trace_id': span.traceId });
        links.awaitPrompt(span.traceId, { sessionId, resource: views.resource, prompt });
      }
    } else if (span.name === 'claude_code.llm_request' && ref) {
      views.add(
        modelCall(ref.key, parentOf(span), attrs, {
          ...times,
          error,
          attributes: modelCallAttributes(attrs, resource, ref.key),
          events: ownEvents,
        }),
      );
    } else if (span.name === 'claude_code.tool' && ref) {
      views.add(
        toolCallView(ref.key, parentOf(span), toolName(attrs), { ...times, error, attributes: extras(TOOL_KEYS), events: ownEvents }),
      );
    } else if (span.name === 'claude_code.tool.execution' && ref) {
      views.add({
        ref,
        parent: parentOf(span, ref),
        ...times,
        error,
        attributes: toolOutcome(undefined, failed).attributes,
        events: [{ name: span.name, timeNs: startNs, attributes: { ...extras(EXECUTION_KEYS), error } }, ...ownEvents],
      });
    } else {
      const parent = parentOf(span);
      asEvent(links.spanTarget(span.traceId, span.spanId) ?? { ref: parent ?? session });
    }
  }
  return rest;
}
