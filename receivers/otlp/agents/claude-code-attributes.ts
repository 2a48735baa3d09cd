/**
 * Claude Code's telemetry attributes mapped onto the canonical session spans, shared by its
 * log events and its beta spans (they name usage, tools and prompts the same way).
 */
import {
  AgentSpanAttr,
  assistantMessages,
  GenAiAttr,
  modelCallView,
  sessionView,
  usageAttributes,
  userMessages,
  type ViewFields,
} from '../../../core/agent/genai.ts';
import type { SpanRef, SpanView } from '../../../core/agent/session-spans.ts';
import type { Attributes, SessionViews } from './capture-set.ts';
import type { AttributeReader } from './otlp-values.ts';

export const AGENT = 'claude-code';
const PROVIDER = 'anthropic';

/** `service.name` of the CLI and of the desktop app. */
export const SERVICE_NAMES = new Set(['claude-code', 'claude-code-desktop']);

/** Anthropic's usage.cache_creation.ephemeral_1h_input_tokens (enrichment prices them at the 1-hour rate). */
const CACHE_WRITE_1H = 'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens';
const TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';

/**
 * Standard attributes Claude Code repeats on every event and span that describe who and where:
 * they become resource attributes of the capture, so enrichment attributes the spans.
 */
const IDENTITY = new Set([
  'user.id',
  'user.email',
  'user.account_uuid',
  'user.account_id',
  'organization.id',
  'terminal.type',
  'app.version',
  'app.entrypoint',
  'anthropic.provider',
  'anthropic.custom_base_url',
  'workspace.host_paths',
  'workflow.run_id',
  'workflow.name',
]);

/** Keys that name the record itself or are set by the span model: never copied onto a view. */
const STRUCTURAL = new Set([
  'session.id',
  'prompt.id',
  'event.name',
  'event.timestamp',
  'event.sequence',
  'span.type',
  'gen_ai.system', // the deprecated name of gen_ai.provider.name
  'gen_ai.conversation.id',
  GenAiAttr.operationName,
  GenAiAttr.providerName,
]);

function identityOf(attrs: AttributeReader): Attributes {
  return attrs.pick((key) => IDENTITY.has(key));
}

/**
 * A record's or span's own attributes worth keeping on a view or event: all but the structural
 * and identity ones, those the resource already has (OTEL_RESOURCE_ATTRIBUTES are repeated on
 * every record) and those `mapped` onto convention attributes. They keep Claude Code's names,
 * which the redaction processor knows (prompt, response, tool_input, full_command, …).
 */
export function extrasOf(attrs: AttributeReader, resource: AttributeReader, mapped: ReadonlySet<string> = new Set()): Attributes {
  return attrs.pick((key) => !STRUCTURAL.has(key) && !IDENTITY.has(key) && !resource.has(key) && !mapped.has(key));
}

export function defaultName(ref: SpanRef): string {
  const names: Record<SpanRef['kind'], string> = {
    session: `invoke_agent ${AGENT}`,
    prompt: 'prompt',
    model_call: 'chat',
    tool_call: 'execute_tool',
    subagent: 'invoke_agent',
  };
  return names[ref.kind];
}

/**
 * What every record or span of a session tells, event and span alike: who and where (onto the
 * resource), and the session's span lasting until `endNs` (from `startNs` when it claims the start).
 */
export function addSessionView(
  views: SessionViews,
  sessionId: string,
  attrs: AttributeReader,
  resource: AttributeReader,
  times: { startNs: bigint | undefined; endNs: bigint | undefined },
): void {
  views.addResource(identityOf(attrs));
  const attributes = { 'gen_ai.agent.version': resource.string('service.version'), [GenAiAttr.providerName]: PROVIDER };
  views.add(sessionView(AGENT, sessionId, { ...times, attributes }));
}

/** Claude Code's text placeholder when OTEL_LOG_USER_PROMPTS / OTEL_LOG_ASSISTANT_RESPONSES are off. */
const REDACTED = '<REDACTED>';

export const inputMessages = (text: string | undefined) => (text === REDACTED ? undefined : userMessages(text));
export const outputMessages = (text: string | undefined) =>
  text === undefined || text === REDACTED ? undefined : assistantMessages([{ type: 'text', content: text }]);

/** Attributes of api_request events and llm_request spans that are mapped onto the conventions. */
const MODEL_CALL_KEYS: ReadonlySet<string> = new Set([
  'model',
  GenAiAttr.requestModel,
  GenAiAttr.responseId,
  'request_id',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_creation_tokens',
  'cache_creation_1h_tokens',
  'cost_usd',
  'duration_ms',
  'ttft_ms',
]);

/** A model call view of Claude Code's, its model as the event or span names it. */
export const modelCall = (requestId: string, parent: SpanRef | undefined, attrs: AttributeReader, view: ViewFields): SpanView =>
  modelCallView(requestId, parent, PROVIDER, attrs.string('model') ?? attrs.string(GenAiAttr.requestModel), view);

/**
 * What an api_request event or llm_request span tells of its model call: usage per the GenAI
 * conventions (Anthropic's input_tokens exclude the cache, the convention's include cache reads
 * and writes), time to first token, the agent's own cost, and its other attributes kept.
 */
export function modelCallAttributes(attrs: AttributeReader, resource: AttributeReader, requestId: string): Attributes {
  const input = attrs.number('input_tokens');
  const output = attrs.number('output_tokens');
  const cacheRead = attrs.number('cache_read_tokens');
  const cacheWrite = attrs.number('cache_creation_tokens');
  const ttftMs = attrs.number('ttft_ms');
  const usage =
    input === undefined || output === undefined
      ? {}
      : usageAttributes({ input: input + (cacheRead ?? 0) + (cacheWrite ?? 0), output, cacheRead, cacheWrite });
  return {
    [GenAiAttr.responseId]: requestId,
    ...usage,
    [CACHE_WRITE_1H]: attrs.number('cache_creation_1h_tokens'),
    [TIME_TO_FIRST_CHUNK]: ttftMs === undefined ? undefined : ttftMs / 1000,
    [AgentSpanAttr.agentCostUsd]: attrs.number('cost_usd'),
    ...extrasOf(attrs, resource, MODEL_CALL_KEYS),
  };
}

export const TOOL_KEYS: ReadonlySet<string> = new Set([
  'tool_name',
  'tool_use_id',
  GenAiAttr.toolName,
  GenAiAttr.toolCallId,
  'duration_ms',
]);

export const toolName = (attrs: AttributeReader) => attrs.string('tool_name') ?? attrs.string(GenAiAttr.toolName);
export const toolUseId = (attrs: AttributeReader) => attrs.string('tool_use_id') ?? attrs.string(GenAiAttr.toolCallId);
