/**
 * The GenAI semantic-convention attributes of canonical agent spans, and builders of the views
 * that carry them: every capture path of an agent names and shapes a span's attributes the same
 * way, so the views merge instead of disagreeing (docs/agent-sessions.md).
 */
import type { AttributeValue } from '../otlp/attributes.ts';
import type { AgentName, SpanRef, SpanView } from './session-spans.ts';

export type Attributes = Record<string, AttributeValue | undefined>;

export const GenAiAttr = {
  operationName: 'gen_ai.operation.name',
  agentName: 'gen_ai.agent.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  finishReasons: 'gen_ai.response.finish_reasons',
  /** Includes cache reads and writes. */
  inputTokens: 'gen_ai.usage.input_tokens',
  /** Includes reasoning tokens. */
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheWriteTokens: 'gen_ai.usage.cache_creation.input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
} as const;

/** Attributes of agent spans besides the GenAI conventions'. */
export const AgentSpanAttr = {
  /** success | error; an exit code that says otherwise beats what the agent reported. */
  toolOutcome: 'agentotel.tool.outcome',
  toolExitCode: 'agentotel.tool.exit_code',
  /** What the agent itself reported the cost to be (not the pricing table's figure). */
  agentCostUsd: 'agentotel.agent.cost_usd',
} as const;

/** gen_ai.input.messages of a user prompt: `[{"role":"user","parts":[{"type":"text","content":…}]}]`. */
export function userMessages(text: string | undefined): string | undefined {
  return text === undefined ? undefined : JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: text }] }]);
}

export type OutputPart =
  | { type: 'text'; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'tool_call'; id?: string; name: string; arguments?: unknown };

/** gen_ai.output.messages of one assistant message; undefined without parts. */
export function assistantMessages(parts: OutputPart[], finishReason?: string): string | undefined {
  if (parts.length === 0) return undefined;
  return JSON.stringify([{ role: 'assistant', parts, ...(finishReason ? { finish_reason: finishReason } : {}) }]);
}

export interface Usage {
  /** All input tokens, cached ones included. */
  input: number;
  /** All output tokens, reasoning included. */
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
  reasoning?: number;
}

export function usageAttributes(u: Usage): Attributes {
  return {
    [GenAiAttr.inputTokens]: u.input,
    [GenAiAttr.outputTokens]: u.output,
    [GenAiAttr.cacheReadTokens]: u.cacheRead,
    [GenAiAttr.cacheWriteTokens]: u.cacheWrite,
    [GenAiAttr.reasoningTokens]: u.reasoning,
  };
}

/**
 * How a tool call ended: a known exit code decides (agents report a shell command that exited 1
 * as a successful tool call); else whether the agent said it failed; else nothing is claimed.
 */
export function toolOutcome(
  exitCode: number | undefined,
  failed: boolean | undefined,
  message?: string,
): { attributes: Attributes; error?: string } {
  const isError = exitCode !== undefined ? exitCode !== 0 : failed;
  if (isError === undefined) return { attributes: {} };
  const attributes = { [AgentSpanAttr.toolOutcome]: isError ? 'error' : 'success', [AgentSpanAttr.toolExitCode]: exitCode };
  if (!isError) return { attributes };
  return { attributes, error: message ?? (exitCode !== undefined ? `exit code ${exitCode}` : 'tool call failed') };
}

/** The parts of a view a converter fills in; ref, parent and name come from the builders below. */
export type ViewFields = Omit<SpanView, 'ref' | 'parent' | 'name'>;

const withAttributes = (view: ViewFields, base: Attributes): ViewFields => ({ ...view, attributes: { ...base, ...view.attributes } });

export const sessionRef = (sessionId: string): SpanRef => ({ kind: 'session', key: sessionId });
export const promptRef = (key: string): SpanRef => ({ kind: 'prompt', key });
export const modelCallRef = (key: string): SpanRef => ({ kind: 'model_call', key });
export const toolCallRef = (callId: string): SpanRef => ({ kind: 'tool_call', key: callId });

export function sessionView(agent: AgentName, sessionId: string, view: ViewFields = {}): SpanView {
  return {
    ref: sessionRef(sessionId),
    name: `invoke_agent ${agent}`,
    ...withAttributes(view, { [GenAiAttr.operationName]: 'invoke_agent', [GenAiAttr.agentName]: agent }),
  };
}

export function promptView(sessionId: string, key: string, view: ViewFields = {}): SpanView {
  return { ref: promptRef(key), parent: sessionRef(sessionId), name: 'prompt', ...view };
}

/** A model call; `parent` undefined when the path cannot tell which prompt it served. */
export function modelCallView(
  key: string,
  parent: SpanRef | undefined,
  provider: string,
  model: string | undefined,
  view: ViewFields = {},
): SpanView {
  return {
    ref: modelCallRef(key),
    parent,
    name: model ? `chat ${model}` : 'chat',
    ...withAttributes(view, { [GenAiAttr.operationName]: 'chat', [GenAiAttr.providerName]: provider, [GenAiAttr.requestModel]: model }),
  };
}

/** A tool call; `tool` undefined when the view's source does not name the tool. */
export function toolCallView(callId: string, parent: SpanRef | undefined, tool: string | undefined, view: ViewFields = {}): SpanView {
  return {
    ref: toolCallRef(callId),
    parent,
    name: tool ? `execute_tool ${tool}` : 'execute_tool',
    ...withAttributes(view, { [GenAiAttr.operationName]: 'execute_tool', [GenAiAttr.toolName]: tool, [GenAiAttr.toolCallId]: callId }),
  };
}

/** A value as the text of a GenAI attribute: strings as they are, anything else as JSON. */
export function asText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}
