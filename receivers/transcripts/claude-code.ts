/**
 * Claude Code transcripts: `~/.claude/projects/<mangled cwd>/<session id>.jsonl`, one JSON record
 * per line, and each subagent's own transcript in `<session id>/subagents/agent-<agent id>.jsonl`
 * (records marked `isSidechain`, type in the `agent-<agent id>.meta.json` beside it).
 *
 * Each line yields *snapshots*: the parser keeps what earlier lines told (prompt in progress,
 * content blocks of a response, tool inputs) and every view it returns is the whole of what it
 * knows about that span so far, so the last view of a span wins when views are merged.
 *
 *   record                        views
 *   user (text)                   prompt (key promptId), session
 *   assistant (one per block)     model call (key requestId, else message.id), tool calls of its tool_use blocks
 *   user (tool_result)            tool call (result, outcome), subagent link of an Agent/Task call
 *   system api_error              api_error event on the prompt (a retried model call)
 *   api-request                   start time of the model call it names (requestRef)
 *   cost-state                    agentotel.agent.cost_usd on the session (cumulative for the session)
 *
 * One API response is written as several `assistant` records (one per content block) sharing
 * message.id and repeating the same usage: they are views of one model call, never summed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BoundedMap } from '../../core/agent/bounded-map.ts';
import { toNs, type SessionCapture, type SpanRef, type SpanView, type ViewEvent } from '../../core/agent/session-spans.ts';
import type { AttributeValue } from '../../core/otlp/attributes.ts';
import { clip, isRecord, list, num, parseRecord, rec, str, type JsonRecord } from './json-fields.ts';
import type { TranscriptParser } from './parser.ts';

/** Attributes of transcript views besides the GenAI conventions'. */
export const TranscriptAttr = {
  agentCostUsd: 'agentotel.agent.cost_usd',
  cwd: 'agentotel.session.cwd',
  gitBranch: 'vcs.ref.head.name',
  promptId: 'agentotel.prompt.id',
  toolOutcome: 'agentotel.tool.outcome',
  toolExitCode: 'agentotel.tool.exit_code',
  retryAttempt: 'agentotel.retry.attempt',
  retryMax: 'agentotel.retry.max',
  retryDelayMs: 'agentotel.retry.delay_ms',
} as const;

/** Record types that carry nothing a span needs: skipped, counted as "record type <type>". */
const IGNORED_TYPES = new Set([
  'queue-operation',
  'attachment',
  'api-request-shape',
  'api-request-blob',
  'last-prompt',
  'tools-used',
  'atis-latch',
  'mode',
  'summary',
  'file-history-snapshot',
  'progress',
  'custom-title',
  'ai-title',
  'tag',
  'permission-mode',
]);

/** system subtypes that mark the end of a turn: they extend the prompt's span. */
const TURN_END_SUBTYPES = new Set(['stop_hook_summary', 'turn_duration']);
const SUBAGENT_TOOLS = new Set(['Agent', 'Task']);
const MAX_EVENTS = 100;

interface Usage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheCreation?: number;
  cacheCreation1h?: number;
}

interface ModelCall {
  key: string;
  parent: SpanRef;
  messageId: string;
  startNs?: bigint;
  endNs?: bigint;
  requestModel?: string;
  responseModel?: string;
  stopReason?: string;
  usage: Usage;
  /** Content blocks by their index in the response (records of a resumed session repeat them). */
  parts: Map<string, Record<string, unknown>>;
}

interface ToolCall {
  id: string;
  name: string;
  parent: SpanRef;
  arguments?: string;
  subagentType?: string;
  startNs?: bigint;
}

interface Prompt {
  ref: SpanRef;
  parent: SpanRef;
  text?: string;
  startNs?: bigint;
  endNs?: bigint;
  events: ViewEvent[];
  error?: string;
}

interface Span {
  startNs?: bigint;
  endNs?: bigint;
}

interface Session extends Span {
  cwd?: string;
  gitBranch?: string;
  version?: string;
  costUsd?: number;
}

interface Subagent extends Span {
  agentId: string;
  type?: string;
  parentToolUseId?: string;
  task?: string;
  events: ViewEvent[];
}

const widen = (span: Span, ns: bigint | undefined) => {
  if (ns === undefined) return;
  if (span.startNs === undefined || ns < span.startNs) span.startNs = ns;
  if (span.endNs === undefined || ns > span.endNs) span.endNs = ns;
};

const json = (v: unknown) => JSON.stringify(v);

function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  const texts = (Array.isArray(content) ? content : [])
    .filter(isRecord)
    .map((b) => (b.type === 'text' ? str(b, 'text') : b.type === 'image' ? '[image]' : undefined))
    .filter((t): t is string => t !== undefined);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

class ClaudeCodeParser implements TranscriptParser {
  readonly skipped = new Map<string, number>();
  private sessionId: string | undefined;
  private readonly session: Session = {};
  private prompt: Prompt | undefined;
  // Bounded: a long session must not keep every response's text in memory.
  private readonly subagents = new BoundedMap<string, Subagent>(64);
  private readonly requestStarts = new BoundedMap<string, bigint>(64);
  private readonly calls = new BoundedMap<string, ModelCall>(64);
  private readonly tools = new BoundedMap<string, ToolCall>(256);

  constructor(
    /** The session and agent ids the path names, for records that do not carry them. */
    private readonly fromPath: { sessionId?: string; agentId?: string },
    private readonly readSubagentType: (agentId: string) => string | undefined,
  ) {}

  parseLine(line: string): SessionCapture[] {
    if (line.trim() === '') return [];
    const r = parseRecord(line);
    if (!r) return this.skip('broken JSON');
    const type = str(r, 'type');
    if (!type) return this.skip('record without type');
    this.sessionId = str(r, 'sessionId') ?? this.sessionId ?? this.fromPath.sessionId;
    if (!this.sessionId) return this.skip('record without session id');

    const ts = toNs(str(r, 'timestamp'));
    const subagent = this.subagentOf(r);
    if (subagent) widen(subagent, ts);
    else this.observeSession(r, ts);

    let views: SpanView[];
    switch (type) {
      case 'user':
        views = this.user(r, ts, subagent);
        break;
      case 'assistant':
        views = this.assistant(r, ts, subagent);
        break;
      case 'system':
        views = this.system(r, ts, subagent);
        break;
      case 'api-request': {
        const id = str(r, 'id');
        if (id && ts !== undefined) this.requestStarts.set(id, ts);
        return [];
      }
      case 'cost-state':
        this.session.costUsd = num(r, 'totalCostUSD') ?? this.session.costUsd;
        views = [this.sessionView()];
        break;
      default:
        return this.skip(IGNORED_TYPES.has(type) ? `record type ${type}` : `unknown record type ${clip(type, 64)}`);
    }
    if (views.length === 0) return [];
    return [{ agent: 'claude-code', sessionId: this.sessionId, path: 'transcript', resource: this.resource(), views }];
  }

  private skip(reason: string): [] {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
    return [];
  }

  private resource(): Record<string, AttributeValue | undefined> {
    return { 'service.version': this.session.version };
  }

  private observeSession(r: JsonRecord, ts: bigint | undefined): void {
    widen(this.session, ts);
    this.session.cwd = str(r, 'cwd') ?? this.session.cwd;
    this.session.gitBranch = str(r, 'gitBranch') ?? this.session.gitBranch;
    this.session.version = str(r, 'version') ?? this.session.version;
    if (this.prompt && ts !== undefined && (this.prompt.endNs === undefined || ts > this.prompt.endNs)) this.prompt.endNs = ts;
  }

  /** The subagent a sidechain record belongs to (undefined for the main conversation). */
  private subagentOf(r: JsonRecord): Subagent | undefined {
    if (r.isSidechain !== true) return undefined;
    const agentId = str(r, 'agentId') ?? this.fromPath.agentId;
    if (!agentId) return undefined;
    let s = this.subagents.get(agentId);
    if (!s) this.subagents.set(agentId, (s = { agentId, events: [] }));
    s.parentToolUseId ??= str(r, 'parentToolUseID') ?? str(r, 'parent_tool_use_id');
    return s;
  }

  // ── records ────────────────────────────────────────────────────────────────

  private user(r: JsonRecord, ts: bigint | undefined, subagent: Subagent | undefined): SpanView[] {
    const content = rec(r, 'message')?.content;
    const results = (Array.isArray(content) ? content : []).filter((b) => isRecord(b) && b.type === 'tool_result') as JsonRecord[];
    if (results.length > 0) {
      if (!subagent) this.prompt ??= this.promptFor(r, ts);
      return [this.rootView(subagent), ...results.flatMap((b) => this.toolResult(b, r, ts, subagent))];
    }
    if (r.isMeta === true || r.isCompactSummary === true || r.isVisibleInTranscriptOnly === true) {
      return this.skip('user record not typed by the user');
    }
    const text = textOf(content);
    if (subagent) {
      subagent.task ??= text;
      return [this.rootView(subagent)];
    }
    if (text?.startsWith('[Request interrupted by user') && this.prompt) {
      this.addEvent(this.prompt.events, { name: 'interrupted', timeNs: ts ?? this.session.endNs ?? 0n });
      return [this.sessionView(), this.promptView(this.prompt)];
    }
    const next = this.promptFor(r, ts);
    // A resumed session repeats earlier prompts: the same prompt id continues the same span.
    const prompt = this.prompt?.ref.key === next.ref.key ? this.prompt : next;
    prompt.text ??= text;
    this.prompt = prompt;
    return [this.sessionView(), this.promptView(prompt)];
  }

  private promptFor(r: JsonRecord, ts: bigint | undefined): Prompt {
    const key = str(r, 'promptId') ?? str(r, 'uuid') ?? `${this.sessionId}/${String(ts)}`;
    return { ref: { kind: 'prompt', key }, parent: this.sessionRef(), startNs: ts, endNs: ts, events: [] };
  }

  private assistant(r: JsonRecord, ts: bigint | undefined, subagent: Subagent | undefined): SpanView[] {
    const message = rec(r, 'message');
    const messageId = str(message, 'id');
    if (r.isApiErrorMessage === true || str(message, 'model') === '<synthetic>') {
      return this.apiError(ts, subagent, { message: textOf(message?.content) ?? str(r, 'error') ?? 'API error', final: true });
    }
    if (!message || !messageId) return this.skip('assistant record without message id');

    let call = this.calls.get(messageId);
    if (!call) {
      const requestRef = str(r, 'requestRef');
      call = {
        key: str(r, 'requestId') ?? messageId,
        parent: this.container(subagent),
        messageId,
        startNs: (requestRef ? this.requestStarts.get(requestRef) : undefined) ?? ts,
        usage: {},
        parts: new Map(),
      };
      this.calls.set(messageId, call);
    }
    if (ts !== undefined && (call.endNs === undefined || ts > call.endNs)) call.endNs = ts;
    call.requestModel ??= str(r, 'requestedModel');
    call.responseModel = str(message, 'model') ?? call.responseModel;
    call.stopReason = str(message, 'stop_reason') ?? call.stopReason;
    this.addUsage(call.usage, rec(message, 'usage'));

    const toolViews: SpanView[] = [];
    list(message, 'content').forEach((block, i) => {
      if (!isRecord(block)) return;
      const part = this.outputPart(block);
      if (part) call.parts.set(`${num(r, 'apiBlockIndex') ?? str(r, 'uuid')}/${i}`, part);
      const id = str(block, 'id');
      const name = str(block, 'name');
      if (block.type !== 'tool_use' || !id || !name) return;
      const input = rec(block, 'input');
      const tool: ToolCall = this.tools.get(id) ?? { id, name, parent: this.container(subagent), startNs: ts };
      tool.arguments = input ? clip(json(input)) : tool.arguments;
      if (SUBAGENT_TOOLS.has(name)) tool.subagentType = str(input, 'subagent_type') ?? 'general-purpose';
      this.tools.set(id, tool);
      toolViews.push(this.toolView(tool));
    });
    return [this.rootView(subagent), ...this.promptViews(subagent), this.modelCallView(call), ...toolViews];
  }

  private system(r: JsonRecord, ts: bigint | undefined, subagent: Subagent | undefined): SpanView[] {
    const subtype = str(r, 'subtype') ?? '';
    if (subtype === 'api_error') {
      const error = rec(r, 'error');
      const status = num(error, 'status');
      return this.apiError(ts, subagent, {
        message: str(error, 'message') ?? str(rec(error, 'error'), 'message') ?? str(r, 'content') ?? 'API error',
        status,
        attempt: num(r, 'retryAttempt'),
        max: num(r, 'maxRetries'),
        delayMs: num(r, 'retryInMs'),
        final: false,
      });
    }
    if (TURN_END_SUBTYPES.has(subtype)) return [this.rootView(subagent), ...this.promptViews(subagent)];
    return this.skip(`system subtype ${clip(subtype || '(none)', 64)}`);
  }

  /** A failed model call: a retry attempt (system api_error), or the final error once retries ran out. */
  private apiError(
    ts: bigint | undefined,
    subagent: Subagent | undefined,
    e: { message: string; status?: number; attempt?: number; max?: number; delayMs?: number; final: boolean },
  ): SpanView[] {
    const events = subagent ? subagent.events : this.prompt?.events;
    if (!events) return this.skip('API error outside a prompt');
    this.addEvent(events, {
      name: 'api_error',
      timeNs: ts ?? this.session.endNs ?? 0n,
      attributes: {
        'error.type': e.status !== undefined ? String(e.status) : undefined,
        'error.message': clip(e.message, 1024),
        [TranscriptAttr.retryAttempt]: e.attempt,
        [TranscriptAttr.retryMax]: e.max,
        [TranscriptAttr.retryDelayMs]: e.delayMs !== undefined ? Math.round(e.delayMs) : undefined,
        'agentotel.retry.final': e.final,
      },
    });
    if (e.final && this.prompt && !subagent) this.prompt.error = clip(e.message, 1024);
    return [this.rootView(subagent), ...this.promptViews(subagent)];
  }

  private toolResult(block: JsonRecord, r: JsonRecord, ts: bigint | undefined, subagent: Subagent | undefined): SpanView[] {
    const id = str(block, 'tool_use_id');
    if (!id) return [];
    const tool = this.tools.get(id) ?? { id, name: 'unknown', parent: this.container(subagent) };
    const result = textOf(block.content) ?? '';
    const isError = block.is_error === true;
    const exitCode = /^(?:Error: )?Exit code (\d+)/.exec(result)?.[1];
    const view = this.toolView(tool);
    view.endNs = ts;
    view.attributes = {
      ...view.attributes,
      'gen_ai.tool.call.result': clip(result),
      [TranscriptAttr.toolOutcome]: isError ? 'error' : 'success',
      [TranscriptAttr.toolExitCode]: exitCode !== undefined ? Number(exitCode) : undefined,
    };
    // The status message is not subject to the privacy tier's attribute rules: only the first line of the result.
    if (isError) view.error = clip(result.split('\n', 1)[0]!, 256) || 'tool error';
    const views = [view];
    const agentId = tool.subagentType ? (str(rec(r, 'toolUseResult'), 'agentId') ?? /agentId: ([\w-]+)/.exec(result)?.[1]) : undefined;
    if (agentId) views.push(this.subagentLinkView(agentId, tool, ts));
    return views;
  }

  // ── views ──────────────────────────────────────────────────────────────────

  private sessionRef(): SpanRef {
    return { kind: 'session', key: this.sessionId! };
  }

  /** What a model or tool call of this record belongs to: the subagent, else the prompt in progress. */
  private container(subagent: Subagent | undefined): SpanRef {
    return subagent ? { kind: 'subagent', key: subagent.agentId } : (this.prompt?.ref ?? this.sessionRef());
  }

  private rootView(subagent: Subagent | undefined): SpanView {
    return subagent ? this.subagentView(subagent) : this.sessionView();
  }

  private promptViews(subagent: Subagent | undefined): SpanView[] {
    return !subagent && this.prompt ? [this.promptView(this.prompt)] : [];
  }

  private sessionView(): SpanView {
    const s = this.session;
    return {
      ref: this.sessionRef(),
      name: 'invoke_agent claude-code',
      startNs: s.startNs,
      endNs: s.endNs,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'claude-code',
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.agent.version': s.version,
        [TranscriptAttr.cwd]: s.cwd,
        [TranscriptAttr.gitBranch]: s.gitBranch,
        [TranscriptAttr.agentCostUsd]: s.costUsd,
      },
    };
  }

  private promptView(p: Prompt): SpanView {
    return {
      ref: p.ref,
      parent: p.parent,
      name: 'prompt',
      startNs: p.startNs,
      endNs: p.endNs,
      attributes: {
        [TranscriptAttr.promptId]: p.ref.key,
        'gen_ai.input.messages':
          p.text !== undefined ? json([{ role: 'user', parts: [{ type: 'text', content: clip(p.text) }] }]) : undefined,
      },
      events: p.events.length > 0 ? [...p.events] : undefined,
      error: p.error,
    };
  }

  private modelCallView(c: ModelCall): SpanView {
    const u = c.usage;
    const model = c.responseModel ?? c.requestModel ?? 'unknown';
    const cacheRead = u.cacheRead ?? 0;
    const cacheCreation = u.cacheCreation ?? 0;
    return {
      ref: { kind: 'model_call', key: c.key },
      parent: c.parent,
      name: `chat ${model}`,
      startNs: c.startNs,
      endNs: c.endNs,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': c.requestModel ?? c.responseModel,
        'gen_ai.response.model': c.responseModel,
        'gen_ai.response.id': c.messageId,
        'gen_ai.response.finish_reasons': c.stopReason ? json([c.stopReason]) : undefined,
        // The conventions count cache reads and writes inside input_tokens; Anthropic's input_tokens excludes them.
        'gen_ai.usage.input_tokens': u.input !== undefined ? u.input + cacheRead + cacheCreation : undefined,
        'gen_ai.usage.output_tokens': u.output,
        'gen_ai.usage.cache_read.input_tokens': u.cacheRead,
        'gen_ai.usage.cache_creation.input_tokens': u.cacheCreation,
        'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens': u.cacheCreation1h,
        'gen_ai.output.messages':
          c.parts.size > 0 ? json([{ role: 'assistant', parts: [...c.parts.values()], finish_reason: c.stopReason }]) : undefined,
      },
    };
  }

  private toolView(t: ToolCall): SpanView {
    return {
      ref: { kind: 'tool_call', key: t.id },
      parent: t.parent,
      name: `execute_tool ${t.name}`,
      startNs: t.startNs,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': t.name,
        'gen_ai.tool.call.id': t.id,
        'gen_ai.tool.call.arguments': t.arguments,
      },
    };
  }

  private subagentView(s: Subagent): SpanView {
    s.type ??= this.readSubagentType(s.agentId);
    return {
      ref: { kind: 'subagent', key: s.agentId },
      // The subagent's own transcript names its parent only when its records carry the spawning tool_use id.
      parent: s.parentToolUseId ? { kind: 'tool_call', key: s.parentToolUseId } : undefined,
      name: `invoke_agent ${s.type ?? 'subagent'}`,
      startNs: s.startNs,
      endNs: s.endNs,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': s.type,
        'gen_ai.agent.id': s.agentId,
        'gen_ai.input.messages':
          s.task !== undefined ? json([{ role: 'user', parts: [{ type: 'text', content: clip(s.task) }] }]) : undefined,
      },
      events: s.events.length > 0 ? [...s.events] : undefined,
    };
  }

  /** The parent's side of a subagent: the Agent/Task tool call that spawned it, named by its result. */
  private subagentLinkView(agentId: string, tool: ToolCall, endNs: bigint | undefined): SpanView {
    return {
      ref: { kind: 'subagent', key: agentId },
      parent: { kind: 'tool_call', key: tool.id },
      name: `invoke_agent ${tool.subagentType}`,
      startNs: tool.startNs,
      endNs,
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': tool.subagentType, 'gen_ai.agent.id': agentId },
    };
  }

  // ── content ────────────────────────────────────────────────────────────────

  private outputPart(block: JsonRecord): Record<string, unknown> | undefined {
    switch (block.type) {
      case 'text':
        return { type: 'text', content: clip(str(block, 'text') ?? '') };
      case 'thinking':
        return { type: 'reasoning', content: clip(str(block, 'thinking') ?? '') };
      case 'tool_use': {
        const args = json(block.input ?? {});
        return {
          type: 'tool_call',
          id: str(block, 'id'),
          name: str(block, 'name'),
          arguments: args.length > 4096 ? clip(args, 4096) : block.input,
        };
      }
      default:
        return undefined;
    }
  }

  private addUsage(u: Usage, usage: JsonRecord | undefined): void {
    if (!usage) return;
    // Every record of a response repeats its usage: keep the largest figure, never a sum.
    u.input = maxOf(u.input, num(usage, 'input_tokens'));
    u.output = maxOf(u.output, num(usage, 'output_tokens'));
    u.cacheRead = maxOf(u.cacheRead, num(usage, 'cache_read_input_tokens'));
    u.cacheCreation = maxOf(u.cacheCreation, num(usage, 'cache_creation_input_tokens'));
    u.cacheCreation1h = maxOf(u.cacheCreation1h, num(rec(usage, 'cache_creation'), 'ephemeral_1h_input_tokens'));
  }

  private addEvent(events: ViewEvent[], e: ViewEvent): void {
    if (events.length < MAX_EVENTS) events.push(e);
  }
}

/** Session and agent ids a Claude Code transcript path names: <session>.jsonl, <session>/subagents/agent-<id>.jsonl. */
function idsFromPath(file: string): { sessionId?: string; agentId?: string } {
  const base = path.basename(file, '.jsonl');
  const agent = /^agent-(.+)$/.exec(base);
  if (!agent) return { sessionId: base };
  const dir = path.dirname(file);
  return { agentId: agent[1], sessionId: path.basename(dir) === 'subagents' ? path.basename(path.dirname(dir)) : undefined };
}

/** The subagent type from `agent-<id>.meta.json` beside the subagent transcript, when it exists. */
function subagentTypeReader(file: string): (agentId: string) => string | undefined {
  return (agentId) => {
    try {
      const meta: unknown = JSON.parse(readFileSync(path.join(path.dirname(file), `agent-${agentId}.meta.json`), 'utf8'));
      return isRecord(meta) ? str(meta, 'agentType') : undefined;
    } catch {
      return undefined;
    }
  };
}

export const claudeCodeFormat = {
  createParser: (file: string): TranscriptParser => new ClaudeCodeParser(idsFromPath(file), subagentTypeReader(file)),
};
