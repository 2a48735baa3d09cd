/**
 * Claude Code's telemetry attributes mapped onto the canonical session spans, shared by its
 * log events and its beta spans (they name usage, tools and prompts the same way).
 */
import type { SpanRef } from '../../../core/agent/session-spans.ts';
import type { Attributes } from './capture-set.ts';
import type { AttributeReader } from './otlp-values.ts';

export const AGENT = 'claude-code';

/** `service.name` of the CLI and of the desktop app. */
export const SERVICE_NAMES = new Set(['claude-code', 'claude-code-desktop']);

/** Attribute the own USD cost estimate of the agent goes to (enrichment prices usage itself). */
export const ATTR_AGENT_COST = 'agentotel.agent.cost_usd';
export const ATTR_TOOL_OUTCOME = 'agentotel.tool.outcome';

/**
 * Standard attributes Claude Code repeats on every event and span that describe who and where:
 * they become resource attributes of the capture, so enrichment attributes the spans.
 */
const IDENTITY_KEYS = [
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
];
const IDENTITY = new Set(IDENTITY_KEYS);

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
  'gen_ai.operation.name',
  'gen_ai.provider.name',
]);

export function identityOf(attrs: AttributeReader): Attributes {
  return attrs.pick((key) => IDENTITY.has(key));
}

/**
 * A record's or span's own attributes worth keeping on a view or event: all but the structural
 * and identity ones, those the resource already has (OTEL_RESOURCE_ATTRIBUTES are repeated on
 * every record) and those `mapped` onto convention attributes.
 */
export function extrasOf(attrs: AttributeReader, resource: AttributeReader, mapped: ReadonlySet<string> = new Set()): Attributes {
  return attrs.pick((key) => !STRUCTURAL.has(key) && !IDENTITY.has(key) && !resource.has(key) && !mapped.has(key));
}

export const SESSION_NAME = `invoke_agent ${AGENT}`;

export function defaultName(ref: SpanRef): string {
  switch (ref.kind) {
    case 'session':
      return SESSION_NAME;
    case 'prompt':
      return 'prompt';
    case 'model_call':
      return 'chat';
    case 'tool_call':
      return 'execute_tool';
    case 'subagent':
      return 'invoke_agent';
  }
}

export function sessionAttributes(resource: AttributeReader): Attributes {
  return {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': AGENT,
    'gen_ai.agent.version': resource.string('service.version'),
    'gen_ai.provider.name': 'anthropic',
  };
}

/** Claude Code's text redaction placeholder when OTEL_LOG_USER_PROMPTS / _ASSISTANT_RESPONSES are off. */
const REDACTED = '<REDACTED>';

const messages = (role: 'user' | 'assistant', text: string | undefined) =>
  text === undefined || text === REDACTED ? undefined : JSON.stringify([{ role, parts: [{ type: 'text', content: text }] }]);

export const inputMessages = (text: string | undefined) => messages('user', text);
export const outputMessages = (text: string | undefined) => messages('assistant', text);

/** Token and timing attributes of api_request events and llm_request spans. */
export const MODEL_CALL_KEYS: ReadonlySet<string> = new Set([
  'model',
  'gen_ai.request.model',
  'gen_ai.response.id',
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

export const modelName = (attrs: AttributeReader) => attrs.string('model') ?? attrs.string('gen_ai.request.model');
/** Names known only with the model or tool name; else a later contribution or defaultName() names the span. */
export const chatName = (model: string | undefined) => (model ? `chat ${model}` : undefined);
export const executeToolName = (tool: string | undefined) => (tool ? `execute_tool ${tool}` : undefined);

/**
 * Usage per the GenAI conventions: Anthropic's input_tokens exclude the cache, the
 * convention's include cache reads and writes.
 */
export function modelCallAttributes(attrs: AttributeReader, requestId: string): Attributes {
  const input = attrs.number('input_tokens');
  const cacheRead = attrs.number('cache_read_tokens');
  const cacheCreation = attrs.number('cache_creation_tokens');
  const ttftMs = attrs.number('ttft_ms');
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': modelName(attrs),
    'gen_ai.response.id': requestId,
    'gen_ai.usage.input_tokens': input === undefined ? undefined : input + (cacheRead ?? 0) + (cacheCreation ?? 0),
    'gen_ai.usage.output_tokens': attrs.number('output_tokens'),
    'gen_ai.usage.cache_read.input_tokens': cacheRead,
    'gen_ai.usage.cache_creation.input_tokens': cacheCreation,
    'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens': attrs.number('cache_creation_1h_tokens'),
    'gen_ai.response.time_to_first_chunk': ttftMs === undefined ? undefined : ttftMs / 1000,
    [ATTR_AGENT_COST]: attrs.number('cost_usd'),
  };
}

export const TOOL_KEYS: ReadonlySet<string> = new Set([
  'tool_name',
  'tool_use_id',
  'gen_ai.tool.name',
  'gen_ai.tool.call.id',
  'duration_ms',
]);

export const toolName = (attrs: AttributeReader) => attrs.string('tool_name') ?? attrs.string('gen_ai.tool.name');
export const toolUseId = (attrs: AttributeReader) => attrs.string('tool_use_id') ?? attrs.string('gen_ai.tool.call.id');

export function toolAttributes(name: string | undefined, callId: string): Attributes {
  return { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': callId };
}

export const toolOutcome = (success: boolean | undefined) => (success === undefined ? undefined : success ? 'success' : 'error');
