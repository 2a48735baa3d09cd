/**
 * Claude Code's log events (OTLP logs, scope com.anthropic.claude_code.events) as session
 * views. The event name is in the body ("claude_code.api_request") and in the `event.name`
 * attribute ("api_request"), not in LogRecord.eventName; numbers sometimes arrive as strings.
 *
 *   user_prompt                       prompt view (key prompt.id)
 *   api_request                       model call view (key request_id)
 *   api_error, api_retries_exhausted  error of the model call; an event of the prompt without request_id
 *   assistant_response                gen_ai.output.messages of the model call
 *   tool_decision                     event of the tool call (key tool_use_id)
 *   tool_result                       tool call view (key tool_use_id)
 *   hook_execution_*, compaction,     events of the session
 *     permission_mode_changed
 *   subagent_completed, skill_activated, at_mention   events of the prompt (of the session without prompt.id)
 *
 * Every other event (managed_settings_resolved, hook_registered, plugin_loaded, auth,
 * mcp_server_connection, api_request_body, …) stays a log record; like every event of a
 * session at work it still extends the session's span.
 */
import { AgentSpanAttr, GenAiAttr, promptView, sessionRef, toolCallView, toolOutcome } from '../../../core/agent/genai.ts';
import type { SpanRef } from '../../../core/agent/session-spans.ts';
import type { LogRecord } from '../../../core/otlp/model.ts';
import type { Attributes, SessionViews } from './capture-set.ts';
import type { SpanTarget } from './claude-code-spans.ts';
import {
  addSessionView,
  extrasOf,
  inputMessages,
  modelCall,
  modelCallAttributes,
  outputMessages,
  TOOL_KEYS,
  toolName,
  toolUseId,
} from './claude-code-attributes.ts';
import { AttributeReader, msToNs, recordTimeNs } from './otlp-values.ts';

const PREFIX = 'claude_code.';

export interface ClaudeEvent {
  /** Without the "claude_code." prefix. */
  name: string;
  timeNs: bigint;
  sessionId: string;
  promptId?: string;
  attrs: AttributeReader;
  resource: AttributeReader;
}

/** The event a record tells of; undefined when it names no event, no session or no time (it stays a log). */
export function readEvent(record: LogRecord, resource: AttributeReader): ClaudeEvent | undefined {
  const attrs = new AttributeReader(record.attributes);
  const raw = record.eventName || attrs.string('event.name') || record.body?.stringValue;
  const name = raw?.startsWith(PREFIX) ? raw.slice(PREFIX.length) : raw;
  const sessionId = attrs.string('session.id');
  const timeNs = recordTimeNs(record, attrs);
  if (!name || !sessionId || timeNs === undefined) return undefined;
  return { name, timeNs, sessionId, promptId: attrs.string('prompt.id'), attrs, resource };
}

const WORK_EVENTS = new Set([
  'user_prompt',
  'api_request',
  'api_error',
  'api_retries_exhausted',
  'assistant_response',
  'tool_decision',
  'tool_result',
]);

/** A record of a session that is really at work (not only starting up). */
export const isWork = (event: ClaudeEvent) => event.promptId !== undefined || WORK_EVENTS.has(event.name);

/**
 * The canonical span a record's own span (its spanId, with traces on) belongs to: a
 * tool_decision is logged inside the tool's claude_code.tool.blocked_on_user span.
 */
export function spanTargetOf(event: ClaudeEvent): SpanTarget | undefined {
  const callId = toolUseId(event.attrs);
  if (event.name !== 'tool_decision' || !callId) return undefined;
  const tool = toolName(event.attrs);
  return { ref: { kind: 'tool_call', key: callId }, name: tool ? `execute_tool ${tool}` : undefined };
}

const SESSION_EVENTS = new Set(['hook_execution_start', 'hook_execution_complete', 'compaction', 'permission_mode_changed']);
const PROMPT_EVENTS = new Set(['subagent_completed', 'skill_activated', 'at_mention']);
const PROMPT_TEXT_KEYS: ReadonlySet<string> = new Set(['prompt', 'prompt_text']);
const RESPONSE_KEYS: ReadonlySet<string> = new Set(['response', 'request_id', 'model']);
const API_ERROR_KEYS: ReadonlySet<string> = new Set(['request_id', 'model', 'duration_ms', 'error', 'status_code']);

/**
 * Adds what the event tells to `views`; false when the event stays a log record.
 *
 * Times: a view claims only what it knows (the dedupe merge takes, within one capture path, the
 * later view's claim). A model or tool call's own event knows its times; any other event of a
 * session or prompt tells only that it lasts at least until then (an end). The session's start
 * is claimed by the request in which this receiver first saw it at work (`sessionStart`), a
 * prompt's by its user_prompt.
 */
export function addEventViews(event: ClaudeEvent, views: SessionViews, sessionStart: boolean): boolean {
  const { attrs, sessionId, promptId, timeNs: t } = event;
  const session = sessionRef(sessionId);
  addSessionView(views, sessionId, attrs, event.resource, { startNs: sessionStart ? t : undefined, endNs: t });
  if (promptId) views.add(promptView(sessionId, promptId, { startNs: event.name === 'user_prompt' ? t : undefined, endNs: t }));
  const parent: SpanRef = promptId ? { kind: 'prompt', key: promptId } : session;
  const extras = (mapped?: ReadonlySet<string>) => extrasOf(attrs, event.resource, mapped);
  const ownEvent = (attributes: Attributes = extras()) => [{ name: PREFIX + event.name, timeNs: t, attributes }];
  const asEvent = (host: SpanRef) => {
    views.add({ ref: host, endNs: t, events: ownEvent() });
    return true;
  };
  const requestId = attrs.string('request_id');
  const callId = toolUseId(attrs);
  const durationMs = attrs.number('duration_ms');
  const startNs = durationMs === undefined ? t : t - msToNs(durationMs);

  switch (event.name) {
    case 'user_prompt':
      if (!promptId) return false;
      views.add(
        promptView(sessionId, promptId, {
          attributes: {
            [GenAiAttr.inputMessages]: inputMessages(attrs.string('prompt') ?? attrs.string('prompt_text')),
            ...extras(PROMPT_TEXT_KEYS),
          },
        }),
      );
      return true;
    case 'api_request':
      if (!requestId) return false;
      views.add(
        modelCall(requestId, parent, attrs, {
          startNs,
          endNs: t,
          attributes: modelCallAttributes(attrs, event.resource, requestId),
        }),
      );
      return true;
    case 'api_error':
    case 'api_retries_exhausted': {
      if (!requestId) return asEvent(parent);
      const status = attrs.string('status_code');
      views.add(
        modelCall(requestId, parent, attrs, {
          startNs,
          endNs: t,
          error: attrs.string('error') ?? (status ? `API error ${status}` : event.name),
          attributes: {
            [GenAiAttr.responseId]: requestId,
            'error.type': status ?? (event.name === 'api_error' ? '_OTHER' : undefined),
            ...extras(API_ERROR_KEYS),
          },
          events: ownEvent(),
        }),
      );
      return true;
    }
    case 'assistant_response':
      if (!requestId) return false;
      views.add(
        modelCall(requestId, parent, attrs, {
          endNs: t,
          attributes: { [GenAiAttr.outputMessages]: outputMessages(attrs.string('response')), ...extras(RESPONSE_KEYS) },
        }),
      );
      return true;
    case 'tool_decision':
      if (!callId) return false;
      views.add(
        toolCallView(callId, parent, toolName(attrs), {
          startNs: t,
          attributes: { [AgentSpanAttr.toolOutcome]: attrs.string('decision')?.startsWith('reject') ? 'rejected' : undefined },
          events: ownEvent(extras(TOOL_KEYS)),
        }),
      );
      return true;
    case 'tool_result': {
      if (!callId) return false;
      const success = attrs.boolean('success');
      const outcome = toolOutcome(
        undefined,
        success === undefined ? undefined : !success,
        attrs.string('error') ?? attrs.string('error_type'),
      );
      views.add(
        toolCallView(callId, parent, toolName(attrs), {
          startNs,
          endNs: t,
          error: outcome.error,
          attributes: { ...outcome.attributes, ...extras(TOOL_KEYS) },
        }),
      );
      return true;
    }
    default:
      if (SESSION_EVENTS.has(event.name)) return asEvent(session);
      if (PROMPT_EVENTS.has(event.name)) return asEvent(parent);
      return false;
  }
}
