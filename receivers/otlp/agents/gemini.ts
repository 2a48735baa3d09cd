/**
 * Gemini CLI's native telemetry (settings.json `telemetry`, OTLP/HTTP as JSON) as session views,
 * named as core/agent/gemini.ts says. The resource carries `session.id`; its `service.version` is
 * the Node.js version, not the CLI's, and is left off the captures.
 * Keys: session = session.id / gen_ai.conversation.id, prompt = prompt_id / gen_ai.prompt.name,
 * model call = `<model>:<input>/<output token count>`, tool call = the function call id /
 * gen_ai.tool.call_id.
 *
 *   log event / span                   view
 *   gemini_cli.config                  session (start, configured model)
 *   gemini_cli.user_prompt             prompt, key prompt_id (start, text)
 *   gemini_cli.api_response            model call, key by model and usage (times, usage, response id,
 *                                      output, role: the routing classifier's call is `utility_router`),
 *                                      and a tool call per function call in its output
 *   gemini_cli.tool_call               tool call (times, outcome, decision): the record has no call id,
 *                                      it is matched to a function call of the request by prompt,
 *                                      tool and arguments; unmatched, it is an event of the session
 *   span llm_call                      model call (times, status, output; the usage is left to the
 *                                      log record: the span's lacks thoughts and cached tokens)
 *   span tool_call                     tool call (times, arguments, result, status; an "Exit Code: N"
 *                                      in the result beats the reported success)
 *   any other record or span           passed on unchanged
 */
import {
  GEMINI,
  GEMINI_PROVIDER,
  geminiExitCode,
  geminiModelCallKey,
  geminiModelCallView,
  geminiOutputParts,
} from '../../../core/agent/gemini.ts';
import {
  assistantMessages,
  GenAiAttr,
  modelCallView,
  promptRef,
  promptView,
  sessionView,
  toolCallView,
  toolOutcome,
  userMessages,
  type OutputPart,
} from '../../../core/agent/genai.ts';
import type { SessionCapture, SpanRef, SpanView } from '../../../core/agent/session-spans.ts';
import { StatusCode, type LogRecord, type Resource, type ResourceLogs, type ResourceSpans, type Span } from '../../../core/otlp/model.ts';
import type { AgentTelemetry } from './agent-telemetry.ts';
import { CaptureSet, type Attributes } from './capture-set.ts';
import { AttributeReader, msToNs, nanos, recordTimeNs } from './otlp-values.ts';

type Json = Record<string, unknown>;

/** Resource attributes not copied onto captures: named by the span model, wrong (Node's version), or the prompt itself. */
const NOT_CAPTURED = new Set(['service.name', 'service.version', 'session.id', 'process.command_args']);

const defaultName = (ref: SpanRef): string => (ref.kind === 'session' ? `invoke_agent ${GEMINI}` : ref.kind);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const array = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Arguments as one canonical text (Gemini logs them pretty-printed, elsewhere compact). */
const canonicalArgs = (args: unknown): string => JSON.stringify(typeof args === 'string' ? (parseJson(args) ?? args) : (args ?? {}));

/** The parts of Gemini Content given as one object (`{role, parts}`) or a list of them. */
const contentParts = (contents: unknown): unknown[] =>
  (Array.isArray(contents) ? contents : [contents]).filter(isObject).flatMap((c) => array(c.parts));

/** The parts of every candidate of a response given as one object or as its streamed chunks. */
const partsOf = (chunks: unknown): unknown[] =>
  (Array.isArray(chunks) ? chunks : [chunks]).filter(isObject).flatMap((c) =>
    contentParts(
      array(c.candidates)
        .filter(isObject)
        .map((cand) => cand.content),
    ),
  );

const responseIdOf = (chunks: unknown): string | undefined =>
  (Array.isArray(chunks) ? chunks : [chunks])
    .filter(isObject)
    .map((c) => c.responseId)
    .find((id): id is string => typeof id === 'string');

/** A function call the model asked for in this request's output, waiting for its gemini_cli.tool_call record. */
interface FunctionCall {
  id: string;
  promptId: string | undefined;
  match: string;
}

const matchKey = (promptId: string | undefined, name: string, args: unknown) =>
  `${promptId ?? ''}\u0000${name}\u0000${canonicalArgs(args)}`;

function toolCallViews(parts: OutputPart[], parent: SpanRef | undefined): SpanView[] {
  return parts.flatMap((p) =>
    p.type === 'tool_call' && p.id
      ? [toolCallView(p.id, parent, p.name, { attributes: { [GenAiAttr.toolCallArguments]: JSON.stringify(p.arguments ?? {}) } })]
      : [],
  );
}

export class GeminiTelemetry implements AgentTelemetry {
  readonly agent = GEMINI;

  owns(resource: Resource | undefined): boolean {
    return new AttributeReader(resource?.attributes).string('service.name') === 'gemini-cli';
  }

  logs(resourceLogs: ResourceLogs): { captures: SessionCapture[]; rest: LogRecord[] } {
    const resource = new AttributeReader(resourceLogs.resource?.attributes);
    const captured = resource.pick((key) => !NOT_CAPTURED.has(key));
    const captures = new CaptureSet(GEMINI, defaultName);
    const records = (resourceLogs.scopeLogs ?? [])
      .flatMap((s) => s.logRecords ?? [])
      .map((record) => ({ record, a: new AttributeReader(record.attributes) }));
    const calls: FunctionCall[] = [];
    const rest: LogRecord[] = [];
    const later: typeof records = [];
    for (const r of records) {
      const sessionId = r.a.string('session.id') ?? resource.string('session.id');
      if (r.a.string('event.name') === 'gemini_cli.tool_call') later.push(r);
      else if (sessionId === undefined) rest.push(r.record);
      else {
        const views = this.logViews(r.record, r.a, sessionId, calls);
        if (views.length === 0) rest.push(r.record);
        for (const v of views) captures.session(sessionId, captured).add(v);
      }
    }
    // Tool call records after every api_response of the request was read: their call ids come from those.
    for (const { record, a } of later) {
      const sessionId = a.string('session.id') ?? resource.string('session.id');
      if (sessionId === undefined) rest.push(record);
      else captures.session(sessionId, captured).add(this.toolCallRecord(record, a, sessionId, calls));
    }
    return { captures: captures.captures(), rest };
  }

  private logViews(record: LogRecord, a: AttributeReader, sessionId: string, calls: FunctionCall[]): SpanView[] {
    const at = recordTimeNs(record, a);
    const promptId = a.string('prompt_id');
    const parent = promptId === undefined ? undefined : promptRef(promptId);
    switch (a.string('event.name')) {
      case 'gemini_cli.config':
        return [sessionView(GEMINI, sessionId, { startNs: at, attributes: { [GenAiAttr.requestModel]: a.string('model') } })];
      case 'gemini_cli.user_prompt':
        if (promptId === undefined) return [];
        return [
          promptView(sessionId, promptId, { startNs: at, attributes: { [GenAiAttr.inputMessages]: userMessages(a.string('prompt')) } }),
        ];
      case 'gemini_cli.api_response': {
        const model = a.string('model');
        const input = a.number('input_token_count');
        if (model === undefined || input === undefined) return [];
        const chunks = parseJson(a.string('response_text'));
        const parts = geminiOutputParts(partsOf(chunks));
        for (const p of parts)
          if (p.type === 'tool_call' && p.id) calls.push({ id: p.id, promptId, match: matchKey(promptId, p.name, p.arguments) });
        const duration = a.number('duration_ms');
        const usage = {
          input,
          candidates: a.number('output_token_count') ?? 0,
          cached: a.number('cached_content_token_count'),
          thoughts: a.number('thoughts_token_count'),
        };
        const status = a.number('status_code');
        const view = {
          startNs: at !== undefined && duration !== undefined ? at - msToNs(duration) : undefined,
          endNs: at,
          error: status !== undefined && status >= 400 ? `HTTP ${status}` : undefined,
          attributes: {
            [GenAiAttr.responseId]: responseIdOf(chunks),
            [GenAiAttr.outputMessages]: assistantMessages(parts),
            'agentotel.model_call.role': a.string('role'),
          },
        };
        return [geminiModelCallView(model, usage, parent, view), ...toolCallViews(parts, parent)];
      }
      default:
        return [];
    }
  }

  /** A gemini_cli.tool_call record: the tool call it is the outcome of, else an event of the session. */
  private toolCallRecord(record: LogRecord, a: AttributeReader, sessionId: string, calls: FunctionCall[]): SpanView {
    const at = recordTimeNs(record, a);
    const name = a.string('function_name');
    const promptId = a.string('prompt_id');
    const outcome = toolOutcome(undefined, a.boolean('success') === undefined ? undefined : !a.boolean('success'));
    const attributes: Attributes = {
      [GenAiAttr.toolName]: name,
      [GenAiAttr.toolCallArguments]: a.string('function_args'),
      'agentotel.tool.decision': a.string('decision'),
      ...outcome.attributes,
    };
    const match = name === undefined ? -1 : calls.findIndex((c) => c.match === matchKey(promptId, name, a.string('function_args')));
    if (match < 0)
      return sessionView(GEMINI, sessionId, {
        endNs: at,
        events: at === undefined ? undefined : [{ name: 'gemini_cli.tool_call', timeNs: at, attributes }],
      });
    const [call] = calls.splice(match, 1);
    const duration = a.number('duration_ms');
    const startNs = at !== undefined && duration !== undefined ? at - msToNs(duration) : undefined;
    const parent = call!.promptId === undefined ? undefined : promptRef(call!.promptId);
    return toolCallView(call!.id, parent, name, {
      startNs,
      endNs: at,
      attributes: { ...attributes, [GenAiAttr.toolCallArguments]: canonicalArgs(a.string('function_args')) },
      error: outcome.error,
    });
  }

  spans(resourceSpans: ResourceSpans): { captures: SessionCapture[]; rest: Span[] } {
    const resource = new AttributeReader(resourceSpans.resource?.attributes);
    const captured = resource.pick((key) => !NOT_CAPTURED.has(key));
    const captures = new CaptureSet(GEMINI, defaultName);
    const rest: Span[] = [];
    for (const span of (resourceSpans.scopeSpans ?? []).flatMap((s) => s.spans ?? [])) {
      const a = new AttributeReader(span.attributes);
      const sessionId = a.string('gen_ai.conversation.id') ?? resource.string('session.id');
      const views =
        sessionId === undefined
          ? []
          : span.name === 'llm_call'
            ? this.llmCall(span, a)
            : span.name === 'tool_call'
              ? this.toolCallSpan(span, a)
              : [];
      if (views.length === 0) rest.push(span);
      for (const v of views) captures.session(sessionId!, captured).add(v);
    }
    return { captures: captures.captures(), rest };
  }

  private llmCall(span: Span, a: AttributeReader): SpanView[] {
    const model = a.string(GenAiAttr.requestModel);
    const input = a.number(GenAiAttr.inputTokens);
    const output = a.number(GenAiAttr.outputTokens);
    if (model === undefined || input === undefined || output === undefined) return [];
    const promptId = a.string('gen_ai.prompt.name');
    const parent = promptId === undefined ? undefined : promptRef(promptId);
    const parts = geminiOutputParts(contentParts(parseJson(a.string(GenAiAttr.outputMessages))));
    const view = {
      startNs: nanos(span.startTimeUnixNano),
      endNs: nanos(span.endTimeUnixNano),
      error: span.status?.code === StatusCode.ERROR ? (span.status.message ?? 'model call failed') : undefined,
      attributes: { [GenAiAttr.outputMessages]: assistantMessages(parts) },
    };
    return [modelCallView(geminiModelCallKey(model, input, output), parent, GEMINI_PROVIDER, model, view), ...toolCallViews(parts, parent)];
  }

  private toolCallSpan(span: Span, a: AttributeReader): SpanView[] {
    const id = a.string('gen_ai.tool.call_id');
    if (id === undefined) return [];
    const input = parseJson(a.string(GenAiAttr.inputMessages));
    const output = parseJson(a.string(GenAiAttr.outputMessages));
    const request = isObject(output) && isObject(output.request) ? output.request : undefined;
    const response = isObject(output) && isObject(output.response) ? output.response : undefined;
    const results = array(response?.responseParts)
      .filter(isObject)
      .map((p) => (isObject(p.functionResponse) && isObject(p.functionResponse.response) ? p.functionResponse.response : undefined))
      .map((r) => (typeof r?.output === 'string' ? r.output : typeof r?.error === 'string' ? r.error : undefined))
      .filter((t): t is string => t !== undefined);
    const result = results.length > 0 ? results.join('\n') : undefined;
    const status = isObject(output) && typeof output.status === 'string' ? output.status : undefined;
    const failed = span.status?.code === StatusCode.ERROR || (status !== undefined && status !== 'success');
    const outcome = toolOutcome(
      geminiExitCode(result),
      status === undefined && span.status?.code !== StatusCode.ERROR ? undefined : failed,
    );
    const promptId = typeof request?.prompt_id === 'string' ? request.prompt_id : undefined;
    const attributes = {
      [GenAiAttr.toolCallArguments]: isObject(input) && input.args !== undefined ? JSON.stringify(input.args) : undefined,
      [GenAiAttr.toolCallResult]: result,
      ...outcome.attributes,
    };
    const view = { startNs: nanos(span.startTimeUnixNano), endNs: nanos(span.endTimeUnixNano), attributes, error: outcome.error };
    return [toolCallView(id, promptId === undefined ? undefined : promptRef(promptId), a.string(GenAiAttr.toolName), view)];
  }
}
