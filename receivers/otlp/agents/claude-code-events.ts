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
 * mcp_server_connection, api_request_body, …) stays a log record; like every event it still
 * extends the session's span.
 */
import type { SpanRef } from '../../../core/agent/session-spans.ts';
import type { LogRecord } from '../../../core/otlp/model.ts';
import type { Attributes, SessionViews } from './capture-set.ts';
import type { SpanTarget } from './claude-code-spans.ts';
import {
  ATTR_TOOL_OUTCOME,
  chatName,
  executeToolName,
  extrasOf,
  identityOf,
  inputMessages,
  MODEL_CALL_KEYS,
  modelCallAttributes,
  modelName,
  outputMessages,
  SESSION_NAME,
  sessionAttributes,
  TOOL_KEYS,
  toolAttributes,
  toolName,
  toolOutcome,
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
  const body = record.body?.stringValue;
  const raw = record.eventName || attrs.string('event.name') || body;
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
  return { ref: { kind: 'tool_call', key: callId }, name: executeToolName(toolName(event.attrs)) };
}

const SESSION_EVENTS = new Set(['hook_execution_start', 'hook_execution_complete', 'compaction', 'permission_mode_changed']);
const PROMPT_EVENTS = new Set(['subagent_completed', 'skill_activated', 'at_mention']);
const PROMPT_TEXT_KEYS: ReadonlySet<string> = new Set(['prompt', 'prompt_text']);
const RESPONSE_KEYS: ReadonlySet<string> = new Set(['response', 'request_id', 'model']);
const API_ERROR_KEYS: ReadonlySet<string> = new Set(['request_id', 'model', 'duration_ms', 'error', 'status_code']);

/** Adds what the event tells to `views`; false when the event stays a log record. */
export function addEventViews(event: ClaudeEvent, views: SessionViews): boolean {
  const { attrs, timeNs: t } = event;
  const session: SpanRef = { kind: 'session', key: event.sessionId };
  views.addResource(identityOf(attrs));
  views.add({ ref: session, name: SESSION_NAME, startNs: t, endNs: t, attributes: sessionAttributes(event.resource) });
  const prompt: SpanRef | undefined = event.promptId ? { kind: 'prompt', key: event.promptId } : undefined;
  if (prompt) views.add({ ref: prompt, parent: session, startNs: t, endNs: t });
  const extras = (mapped?: ReadonlySet<string>) => extrasOf(attrs, event.resource, mapped);
  const asEvent = (host: SpanRef, attributes: Attributes = extras()) => {
    views.add({ ref: host, startNs: t, endNs: t, events: [{ name: PREFIX + event.name, timeNs: t, attributes }] });
    return true;
  };
  const requestId = attrs.string('request_id');
  const callId = toolUseId(attrs);
  const durationMs = attrs.number('duration_ms');
  const startNs = durationMs === undefined ? t : t - msToNs(durationMs);

  switch (event.name) {
    case 'user_prompt':
      if (!prompt) return false;
      views.add({
        ref: prompt,
        attributes: {
          'gen_ai.input.messages': inputMessages(attrs.string('prompt') ?? attrs.string('prompt_text')),
          ...extras(PROMPT_TEXT_KEYS),
        },
      });
      return true;
    case 'api_request':
      if (!requestId) return false;
      views.add({
        ref: { kind: 'model_call', key: requestId },
        parent: prompt ?? session,
        name: chatName(modelName(attrs)),
        startNs,
        endNs: t,
        attributes: { ...modelCallAttributes(attrs, requestId), ...extras(MODEL_CALL_KEYS) },
      });
      return true;
    case 'api_error':
    case 'api_retries_exhausted': {
      const status = attrs.string('status_code');
      const error = attrs.string('error') ?? (status ? `API error ${status}` : event.name);
      if (!requestId) return asEvent(prompt ?? session);
      views.add({
        ref: { kind: 'model_call', key: requestId },
        parent: prompt ?? session,
        name: chatName(modelName(attrs)),
        startNs,
        endNs: t,
        error,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'anthropic',
          'gen_ai.request.model': modelName(attrs),
          'gen_ai.response.id': requestId,
          'error.type': status ?? (event.name === 'api_error' ? '_OTHER' : undefined),
          ...extras(API_ERROR_KEYS),
        },
        events: [{ name: PREFIX + event.name, timeNs: t, attributes: extras() }],
      });
      return true;
    }
    case 'assistant_response':
      if (!requestId) return false;
      views.add({
        ref: { kind: 'model_call', key: requestId },
        parent: prompt ?? session,
        name: chatName(modelName(attrs)),
        endNs: t,
        attributes: { 'gen_ai.output.messages': outputMessages(attrs.string('response')), ...extras(RESPONSE_KEYS) },
      });
      return true;
    case 'tool_decision':
      if (!callId) return false;
      views.add({
        ref: { kind: 'tool_call', key: callId },
        parent: prompt ?? session,
        name: executeToolName(toolName(attrs)),
        startNs: t,
        attributes: {
          ...toolAttributes(toolName(attrs), callId),
          [ATTR_TOOL_OUTCOME]: attrs.string('decision')?.startsWith('reject') ? 'rejected' : undefined,
        },
        events: [{ name: PREFIX + event.name, timeNs: t, attributes: extras(TOOL_KEYS) }],
      });
      return true;
    case 'tool_result': {
      if (!callId) return false;
      const success = attrs.boolean('success');
      views.add({
        ref: { kind: 'tool_call', key: callId },
        parent: prompt ?? session,
        name: executeToolName(toolName(attrs)),
        startNs,
        endNs: t,
        error: success === false ? (attrs.string('error') ?? attrs.string('error_type') ?? 'tool failed') : undefined,
        attributes: { ...toolAttributes(toolName(attrs), callId), [ATTR_TOOL_OUTCOME]: toolOutcome(success), ...extras(TOOL_KEYS) },
      });
      return true;
    }
    default:
      if (SESSION_EVENTS.has(event.name)) return asEvent(session);
      if (PROMPT_EVENTS.has(event.name)) return asEvent(prompt ?? session);
      return false;
  }
}
