/**
 * What one Claude Code session must look like in ClickHouse, derived from what really happened:
 * the scripted model's exchanges (request ids, models, usage, the tool results the CLI sent
 * back) and what the CLI wrote itself (prompt ids, subagent ids). Nothing here comes from
 * agentotel.
 */
import { sessionTraceId } from '../../core/agent/session-spans.ts';
import type { OtlpProtocol } from '../helpers/otel-sdk.ts';
import type { SessionArtifacts } from './claude-cli.ts';
import type { ModelExchange, Script, Usage } from './scripted-model.ts';

export interface ExpectedModelCall {
  requestId: string;
  model: string;
  usage: Usage;
  /** The thread (prompt or subagent task) the call belongs to. */
  thread: string;
}

export interface ExpectedToolCall {
  toolUseId: string;
  name: string;
  /** As the CLI reported it back to the model (tool_result is_error). */
  isError: boolean;
  thread: string;
}

export interface ExpectedSubagent {
  agentId: string;
  /** The Agent tool use that spawned it. */
  toolUseId: string;
  /** Its task prompt: the thread of its own model and tool calls. */
  thread: string;
}

export interface ExpectedSession {
  label: string;
  protocol: OtlpProtocol;
  sessionId: string;
  traceId: string;
  prompts: { promptId: string; text: string }[];
  modelCalls: ExpectedModelCall[];
  toolCalls: ExpectedToolCall[];
  subagents: ExpectedSubagent[];
}

export interface TokenTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

export function expectedSession(
  label: string,
  protocol: OtlpProtocol,
  sessionId: string,
  script: Script,
  exchanges: ModelExchange[],
  artifacts: SessionArtifacts,
): ExpectedSession {
  const mine = exchanges.filter((e) => e.sessionId === sessionId);
  const answered = mine.filter((e) => e.status === 200);
  const modelCalls = answered.map((e) => ({ requestId: e.requestId, model: e.model, usage: e.usage!, thread: e.thread! }));
  const reported = new Map(mine.flatMap((e) => e.toolResults.map((r) => [r.toolUseId, r.isError] as const)));
  const toolCalls = answered.flatMap((e) =>
    (script[e.thread!]![e.step]!.tools ?? []).map((t) => {
      const isError = reported.get(t.id);
      if (isError === undefined) throw new Error(`${label}: the CLI never reported the result of ${t.id} to the model`);
      return { toolUseId: t.id, name: t.name, isError, thread: e.thread! };
    }),
  );
  const subagents = artifacts.subagents.map((s) => {
    const spawn = Object.values(script)
      .flat()
      .flatMap((r) => r.tools ?? [])
      .find((t) => t.id === s.toolUseId);
    if (!spawn || typeof spawn.input.prompt !== 'string')
      throw new Error(`${label}: subagent ${s.agentId} was not spawned by a scripted Agent tool use`);
    return { ...s, thread: spawn.input.prompt };
  });
  return {
    label,
    protocol,
    sessionId,
    traceId: sessionTraceId('claude-code', sessionId),
    prompts: artifacts.prompts,
    modelCalls,
    toolCalls,
    subagents,
  };
}

/** Scripted usage summed per model, in the CLI's terms (input excludes cache reads and writes). */
export function tokensByModel(calls: ExpectedModelCall[]): Record<string, TokenTotals> {
  const out: Record<string, TokenTotals> = {};
  for (const { model, usage: u } of calls) {
    const t = (out[model] ??= { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 });
    t.input += u.input_tokens;
    t.output += u.output_tokens;
    t.cacheRead += u.cache_read_input_tokens;
    t.cacheCreation += u.cache_creation_input_tokens;
  }
  return out;
}
