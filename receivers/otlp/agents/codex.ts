/**
 * Codex CLI's native telemetry (config.toml `[otel]`) as session views, named as
 * core/agent/codex.ts says. Log records carry the event name in the `event.name` attribute.
 * Keys: session = conversation.id (span session_loop: thread_id), prompt = turn.id / turn_id,
 * tool call = call_id, model call = `usage:<input>/<cached>/<output>/<reasoning>`.
 *
 *   log event / span                             view
 *   codex.conversation_starts                    session (start, model)
 *   codex.user_prompt                            prompt, key turn id (start, text), else a session event
 *   codex.sse_event response.completed + usage   model call, key by usage (end, usage)
 *   codex.tool_decision                          tool call, key call_id (decision)
 *   codex.tool_result                            tool call (times, arguments, result; "Process
 *                                                exited with code N" beats its success flag)
 *   span session_loop                            session (times)
 *   span run_turn                                prompt (times)
 *   span handle_responses with gen_ai.usage.*    model call (end, usage)
 *   span with codex.tool.phase=dispatch          tool call (times; the span is named after the tool)
 *   any other record or span (about 680 of the   passed on unchanged
 *   700 spans of a run: fs.*, append_items, …)
 *
 * State: log records name neither their turn nor (for the usage) their trace, and a turn's spans
 * arrive in several export batches; the spans of a turn's trace that carry `conversation.id`,
 * `turn.id`/`turn_id` and `model` tell them. This format remembers that of the last 10,000
 * traces: Codex exports spans before logs, so a prompt names its turn; a log record of a trace
 * no span told (no trace exporter, a restart) keeps its prompt as an event of the session.
 */
import { CODEX, codexExitCode, codexModelCallView, readCodexUsage, type CodexUsageKeys } from '../../../core/agent/codex.ts';
import { GenAiAttr, promptRef, promptView, sessionView, toolCallView, toolOutcome, userMessages } from '../../../core/agent/genai.ts';
import type { SessionCapture, SpanRef, SpanView } from '../../../core/agent/session-spans.ts';
import { StatusCode, type LogRecord, type Resource, type ResourceLogs, type ResourceSpans, type Span } from '../../../core/otlp/model.ts';
import type { AgentTelemetry } from './agent-telemetry.ts';
import { BoundedMap } from '../../../core/agent/bounded-map.ts';
import { CaptureSet, type Attributes } from './capture-set.ts';
import { AttributeReader, msToNs, nanos, recordTimeNs } from './otlp-values.ts';

const KNOWN_TRACES = 10_000;

/** What the spans of one Codex trace (one turn, or the session's start) tell of it. */
interface TraceContext {
  sessionId?: string;
  turnId?: string;
  model?: string;
}

const defaultName = (ref: SpanRef): string => (ref.kind === 'session' ? `invoke_agent ${CODEX}` : ref.kind);

/** The resource of a capture: Codex's own (service.version is the CLI's), but named after the agent. */
const captureResource = (resource: AttributeReader): Attributes => resource.pick((key) => key !== 'service.name');

const turnIdOf = (a: AttributeReader): string | undefined => a.string('turn.id') ?? a.string('turn_id');

const LOG_USAGE: CodexUsageKeys = {
  input: 'input_token_count',
  cached: 'cached_token_count',
  output: 'output_token_count',
  reasoning: 'reasoning_token_count',
  cacheWrite: 'cache_write_token_count',
};
const SPAN_USAGE: CodexUsageKeys = {
  input: GenAiAttr.inputTokens,
  cached: GenAiAttr.cacheReadTokens,
  output: GenAiAttr.outputTokens,
  reasoning: 'codex.usage.reasoning_output_tokens',
  cacheWrite: 'gen_ai.usage.cache_write.input_tokens',
};

export class CodexTelemetry implements AgentTelemetry {
  readonly agent = CODEX;
  private readonly traces = new BoundedMap<string, TraceContext>(KNOWN_TRACES);

  owns(resource: Resource | undefined): boolean {
    const service = new AttributeReader(resource?.attributes).string('service.name');
    return service !== undefined && /^codex($|[_-])/.test(service);
  }

  logs(resourceLogs: ResourceLogs): { captures: SessionCapture[]; rest: LogRecord[] } {
    const resource = new AttributeReader(resourceLogs.resource?.attributes);
    const captures = new CaptureSet(CODEX, defaultName);
    const rest: LogRecord[] = [];
    for (const scope of resourceLogs.scopeLogs ?? []) {
      for (const record of scope.logRecords ?? []) {
        const attrs = new AttributeReader(record.attributes);
        const sessionId = attrs.string('conversation.id');
        const view = sessionId === undefined ? undefined : this.logView(record, attrs, sessionId);
        if (view === undefined) rest.push(record);
        else captures.session(sessionId!, captureResource(resource)).add(view);
      }
    }
    return { captures: captures.captures(), rest };
  }

  private logView(record: LogRecord, a: AttributeReader, sessionId: string): SpanView | undefined {
    const at = recordTimeNs(record, a);
    const turn = record.traceId ? this.traces.get(record.traceId)?.turnId : undefined;
    const parent = turn === undefined ? undefined : promptRef(turn);
    switch (a.string('event.name')) {
      case 'codex.conversation_starts':
        return sessionView(CODEX, sessionId, {
          startNs: at,
          attributes: { [GenAiAttr.requestModel]: a.string('model'), 'gen_ai.agent.version': a.string('app.version') },
        });
      case 'codex.user_prompt': {
        const input = { [GenAiAttr.inputMessages]: userMessages(a.string('prompt')) };
        if (turn !== undefined) return promptView(sessionId, turn, { startNs: at, attributes: input });
        return sessionView(CODEX, sessionId, {
          endNs: at,
          events: at === undefined ? undefined : [{ name: 'codex.user_prompt', timeNs: at, attributes: input }],
        });
      }
      case 'codex.sse_event': {
        const usage = a.string('event.kind') === 'response.completed' ? readCodexUsage((k) => a.number(k), LOG_USAGE) : undefined;
        return usage && codexModelCallView(usage, parent, a.string('model'), { endNs: at });
      }
      case 'codex.tool_decision': {
        const id = a.string('call_id');
        if (id === undefined) return undefined;
        return toolCallView(id, parent, a.string('tool_name'), { attributes: { 'agentotel.tool.decision': a.string('decision') } });
      }
      case 'codex.tool_result': {
        const id = a.string('call_id');
        if (id === undefined) return undefined;
        const result = a.string('output');
        const outcome = toolOutcome(codexExitCode(result), a.boolean('success') === undefined ? undefined : !a.boolean('success'));
        const duration = a.number('duration_ms');
        const attributes = {
          [GenAiAttr.toolCallArguments]: a.string('arguments'),
          [GenAiAttr.toolCallResult]: result,
          ...outcome.attributes,
        };
        const startNs = at !== undefined && duration !== undefined ? at - msToNs(duration) : undefined;
        return toolCallView(id, parent, a.string('tool_name'), { startNs, endNs: at, attributes, error: outcome.error });
      }
      default:
        return undefined;
    }
  }

  spans(resourceSpans: ResourceSpans): { captures: SessionCapture[]; rest: Span[] } {
    const resource = new AttributeReader(resourceSpans.resource?.attributes);
    const spans = (resourceSpans.scopeSpans ?? [])
      .flatMap((s) => s.spans ?? [])
      .map((span) => ({ span, a: new AttributeReader(span.attributes) }));
    for (const { span, a } of spans) this.learn(span.traceId, a);
    const captures = new CaptureSet(CODEX, defaultName);
    const rest: Span[] = [];
    for (const { span, a } of spans) {
      const context = this.traces.get(span.traceId);
      const view = this.spanView(span, a, context);
      if (view === undefined) rest.push(span);
      else captures.session(view.sessionId, captureResource(resource)).add(view.view);
    }
    return { captures: captures.captures(), rest };
  }

  /** Notes what a span tells of its trace (its session, turn and model). */
  private learn(traceId: string, a: AttributeReader): void {
    const sessionId = a.string('conversation.id');
    const turnId = turnIdOf(a);
    const model = a.string('model');
    if (sessionId === undefined && turnId === undefined && model === undefined) return;
    const known = this.traces.get(traceId) ?? {};
    this.traces.set(traceId, { sessionId: known.sessionId ?? sessionId, turnId: known.turnId ?? turnId, model: known.model ?? model });
  }

  private spanView(span: Span, a: AttributeReader, context: TraceContext | undefined): { sessionId: string; view: SpanView } | undefined {
    const times = { startNs: nanos(span.startTimeUnixNano), endNs: nanos(span.endTimeUnixNano) };
    const sessionId = a.string('conversation.id') ?? context?.sessionId;
    const turn = turnIdOf(a) ?? context?.turnId;
    if (span.name === 'session_loop') {
      const id = a.string('thread_id');
      return id === undefined ? undefined : { sessionId: id, view: sessionView(CODEX, id, times) };
    }
    if (sessionId === undefined || turn === undefined) return undefined;
    if (span.name === 'run_turn') return { sessionId, view: promptView(sessionId, turn, times) };
    const callId = a.string('call_id');
    if (a.string('codex.tool.phase') === 'dispatch' && callId !== undefined) {
      const aborted = a.boolean('aborted') === true || span.status?.code === StatusCode.ERROR;
      const view = { ...times, error: aborted ? (span.status?.message ?? 'tool call aborted') : undefined };
      return { sessionId, view: toolCallView(callId, promptRef(turn), a.string('tool_name'), view) };
    }
    const usage = span.name === 'handle_responses' ? readCodexUsage((k) => a.number(k), SPAN_USAGE) : undefined;
    if (usage) return { sessionId, view: codexModelCallView(usage, promptRef(turn), context?.model, { endNs: times.endNs }) };
    return undefined;
  }
}
