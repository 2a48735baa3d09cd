/**
 * Codex CLI rollout transcripts: `~/.codex/sessions/YYYY/MM/DD/rollout-<local time>-<session id>.jsonl`,
 * one `{timestamp, type, payload}` record per line, named as core/agent/codex.ts says.
 * Keys: session = the session id (file name, session_meta.id), prompt = turn_id, tool call =
 * call_id, model call = `usage:<input>/<cached>/<output>/<reasoning>` of its token_usage_record.
 *
 *   record                                       views
 *   session_meta                                 session (start, cwd, CLI version, git)
 *   turn_context                                 prompt (the turn's model)
 *   event_msg task_started, task_complete        prompt (start; end and final answer), session end
 *   event_msg item_completed UserMessage         prompt (the text)
 *   event_msg item_completed CommandExecution    tool call (times, exit code: it decides the outcome)
 *   response_item function_call                  tool call (name, arguments)
 *   response_item function_call_output           tool call (result, "Process exited with code N")
 *   response_item reasoning, message assistant   held for the model call they belong to
 *   token_usage_record                           model call, key by usage (response id, tokens, output)
 *   anything else                                skipped, counted by type
 *
 * A response's output items precede its token_usage_record: the parser holds them per turn and
 * sends them with the model call. The session id is in the file name and in session_meta.
 */
import path from 'node:path';
import { BoundedMap } from '../../core/agent/bounded-map.ts';
import { CODEX, codexExitCode, codexModelCallView, readCodexUsage, type CodexUsageKeys } from '../../core/agent/codex.ts';
import {
  assistantMessages,
  GenAiAttr,
  promptRef,
  promptView,
  sessionView,
  toolCallView,
  toolOutcome,
  userMessages,
  asText,
  type OutputPart,
} from '../../core/agent/genai.ts';
import { toNs, type SessionCapture, type SpanView } from '../../core/agent/session-spans.ts';
import { TranscriptAttr } from './claude-code.ts';
import { clip, isRecord, list, num, parseRecord, rec, str, type JsonRecord } from './json-fields.ts';
import type { TranscriptParser } from './parser.ts';

const SESSION_FILE = /^rollout-.+-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i;
/** Turns whose held output, model and tool names are remembered at most. */
const RECENT = 256;

const turnOf = (payload: JsonRecord): string | undefined =>
  str(payload, 'turn_id') ?? str(rec(payload, 'internal_chat_message_metadata_passthrough'), 'turn_id');

/** The `key` texts of content items, joined and cut to CONTENT_LIMIT. */
function texts(content: unknown[], key: string): string | undefined {
  const parts = content
    .filter(isRecord)
    .map((c) => str(c, key))
    .filter((t): t is string => t !== undefined);
  return parts.length > 0 ? clip(parts.join('\n')) : undefined;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const ROLLOUT_USAGE: CodexUsageKeys = {
  input: 'input_tokens',
  cached: 'cached_input_tokens',
  output: 'output_tokens',
  reasoning: 'reasoning_output_tokens',
  cacheWrite: 'cache_write_input_tokens',
};

class CodexParser implements TranscriptParser {
  readonly skipped = new Map<string, number>();
  private sessionId: string | undefined;
  private version: string | undefined;
  private readonly modelOfTurn = new BoundedMap<string, string>(RECENT);
  /** Output items of the response in flight, per turn, until its token_usage_record. */
  private readonly heldOutput = new BoundedMap<string, OutputPart[]>(RECENT);
  private readonly toolNames = new BoundedMap<string, string>(RECENT);

  constructor(sessionIdFromFile: string | undefined) {
    this.sessionId = sessionIdFromFile;
  }

  parseLine(line: string): SessionCapture[] {
    if (line.trim() === '') return [];
    const r = parseRecord(line);
    if (!r) return this.skip('broken JSON');
    const type = str(r, 'type');
    const payload = rec(r, 'payload');
    if (!type || !payload) return this.skip('record without type or payload');
    if (type === 'session_meta') this.sessionId ??= str(payload, 'id');
    if (!this.sessionId) return this.skip('record before the session id is known');
    const ts = toNs(str(r, 'timestamp'));

    const views = this.record(type, payload, ts, this.sessionId);
    if (typeof views === 'string') return this.skip(views);
    if (views.length === 0) return [];
    return [{ agent: CODEX, sessionId: this.sessionId, path: 'transcript', resource: { 'service.version': this.version }, views }];
  }

  /** The views of one record, or why it was skipped. */
  private record(type: string, p: JsonRecord, ts: bigint | undefined, sessionId: string): SpanView[] | string {
    switch (type) {
      case 'session_meta':
        return this.sessionMeta(p, ts, sessionId);
      case 'turn_context': {
        const turn = str(p, 'turn_id');
        const model = str(p, 'model');
        if (!turn || !model) return 'turn_context without turn_id or model';
        this.modelOfTurn.set(turn, model);
        return [promptView(sessionId, turn, { attributes: { [GenAiAttr.requestModel]: model } })];
      }
      case 'event_msg':
        return this.event(p, ts, sessionId);
      case 'response_item':
        return this.responseItem(p, ts);
      case 'token_usage_record':
        return this.tokenUsage(p, ts);
      default:
        return `record type ${clip(type, 64)}`;
    }
  }

  private skip(reason: string): [] {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
    return [];
  }

  private sessionMeta(p: JsonRecord, ts: bigint | undefined, sessionId: string): SpanView[] {
    this.version = str(p, 'cli_version') ?? this.version;
    const git = rec(p, 'git');
    const attributes = {
      'gen_ai.agent.version': this.version,
      [TranscriptAttr.cwd]: str(p, 'cwd'),
      [TranscriptAttr.gitBranch]: str(git, 'branch'),
      'vcs.ref.head.revision': str(git, 'commit_hash'),
    };
    return [sessionView(CODEX, sessionId, { startNs: toNs(str(p, 'timestamp')) ?? ts, attributes })];
  }

  private event(p: JsonRecord, ts: bigint | undefined, sessionId: string): SpanView[] | string {
    const kind = str(p, 'type') ?? '(none)';
    const turn = str(p, 'turn_id');
    if (kind === 'task_started' && turn) return [promptView(sessionId, turn, { startNs: ts })];
    if (kind === 'task_complete' && turn) {
      const answer = str(p, 'last_agent_message');
      const output = answer && assistantMessages([{ type: 'text', content: clip(answer) }]);
      return [
        sessionView(CODEX, sessionId, { endNs: ts }),
        promptView(sessionId, turn, { endNs: ts, attributes: { [GenAiAttr.outputMessages]: output } }),
      ];
    }
    const item = rec(p, 'item');
    const itemType = str(item, 'type');
    if (kind === 'item_completed' && item && turn) {
      if (itemType === 'UserMessage') {
        const attributes = { [GenAiAttr.inputMessages]: userMessages(texts(list(item, 'content'), 'text')) };
        return [promptView(sessionId, turn, { startNs: toNs(num(p, 'started_at_ms')) ?? ts, attributes })];
      }
      if (itemType === 'CommandExecution') return this.commandExecution(item, p, turn);
    }
    return `event_msg ${clip(kind, 64)}${itemType ? ` ${clip(itemType, 64)}` : ''}`;
  }

  private commandExecution(item: JsonRecord, p: JsonRecord, turn: string): SpanView[] | string {
    const id = str(item, 'id');
    if (!id) return 'CommandExecution without id';
    const status = str(item, 'status');
    const outcome = toolOutcome(
      num(item, 'exit_code'),
      status === undefined || status === 'in_progress' ? undefined : status !== 'completed',
    );
    const view = {
      startNs: toNs(num(p, 'started_at_ms')),
      endNs: toNs(num(p, 'completed_at_ms')),
      attributes: outcome.attributes,
      error: outcome.error,
    };
    return [toolCallView(id, promptRef(turn), this.toolNames.get(id), view)];
  }

  private responseItem(p: JsonRecord, ts: bigint | undefined): SpanView[] | string {
    const kind = str(p, 'type') ?? '(none)';
    const turn = turnOf(p);
    const parent = turn ? promptRef(turn) : undefined;
    switch (kind) {
      case 'function_call': {
        const id = str(p, 'call_id');
        const name = str(p, 'name');
        if (!id || !name) return 'function_call without call_id or name';
        this.toolNames.set(id, name);
        const args = str(p, 'arguments');
        this.hold(turn, { type: 'tool_call', id, name, arguments: parseJson(args) });
        return [toolCallView(id, parent, name, { startNs: ts, attributes: { [GenAiAttr.toolCallArguments]: args && clip(args) } })];
      }
      case 'function_call_output': {
        const id = str(p, 'call_id');
        if (!id) return 'function_call_output without call_id';
        const output = asText(p.output);
        const result = output && clip(output);
        const outcome = toolOutcome(codexExitCode(output), undefined);
        const view = { endNs: ts, attributes: { [GenAiAttr.toolCallResult]: result, ...outcome.attributes }, error: outcome.error };
        return [toolCallView(id, parent, this.toolNames.get(id), view)];
      }
      case 'reasoning': {
        const summary = texts(list(p, 'summary'), 'text');
        if (summary) this.hold(turn, { type: 'reasoning', content: summary });
        return [];
      }
      case 'message': {
        const role = str(p, 'role');
        const content = role === 'assistant' ? texts(list(p, 'content'), 'text') : undefined;
        if (!content) return `response_item message ${clip(role ?? '(no role)', 64)}`;
        this.hold(turn, { type: 'text', content });
        return [];
      }
      default:
        return `response_item ${clip(kind, 64)}`;
    }
  }

  private hold(turn: string | undefined, part: OutputPart): void {
    if (!turn) return;
    const parts = this.heldOutput.get(turn);
    if (parts) parts.push(part);
    else this.heldOutput.set(turn, [part]);
  }

  private tokenUsage(p: JsonRecord, ts: bigint | undefined): SpanView[] | string {
    const recorded = rec(p, 'usage');
    const usage = readCodexUsage((k) => num(recorded, k), ROLLOUT_USAGE);
    if (!usage) return 'token_usage_record without usage';
    const turn = str(p, 'turn_id');
    const output = turn ? this.heldOutput.take(turn) : undefined;
    const attributes = {
      [GenAiAttr.responseId]: str(p, 'response_id'),
      [GenAiAttr.outputMessages]: output && assistantMessages(output),
    };
    const model = turn ? this.modelOfTurn.get(turn) : undefined;
    return [codexModelCallView(usage, turn ? promptRef(turn) : undefined, model, { endNs: ts, attributes })];
  }
}

/** The session id in a rollout file's name (`rollout-<local time>-<session id>.jsonl`). */
function sessionIdFromFile(file: string): string | undefined {
  return SESSION_FILE.exec(path.basename(file))?.[1];
}

export const codexFormat = {
  createParser: (file: string): TranscriptParser => new CodexParser(sessionIdFromFile(file)),
};
