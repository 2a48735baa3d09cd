/**
 * Gemini CLI chat files: `~/.gemini/tmp/<project>/chats/session-<YYYY-MM-DDTHH-MM>-<8 hex of the
 * session id>.jsonl`, named as core/agent/gemini.ts says. Line 1 is the session's metadata
 * `{sessionId, projectHash, startTime, lastUpdated, kind}`; then message records
 * `{id, timestamp, type, content, …}` and `{"$set": {…}}` patches of the session object.
 * Keys: session = sessionId, model call = `<model>:<tokens.input>/<tokens.output>`, tool call =
 * the toolCalls[] / functionResponse id; no prompt key (chat files carry no prompt id).
 *
 *   record                                  views
 *   metadata (line 1)                       session (start, kind)
 *   $set lastUpdated                        session (latest end)
 *   $set messages                           the messages of a history snapshot, as below (its user
 *                                           text is context the CLI injected, not a prompt)
 *   gemini message with tokens and model    model call, key by model and usage (end, usage, output)
 *     and its toolCalls[]                   tool calls, key id (name, arguments, result, status)
 *   user message, functionResponse parts    tool calls (result)
 *   user message, text                      a session event: chat files carry no prompt id
 *   anything else                           skipped, counted by type
 *
 * A gemini message is written again with the same id once its tool calls are attached: every
 * record gives views of the same spans, and the last one wins when they merge. A run_shell_command
 * that exited non-zero is recorded with status "success"; its "Exit Code: N" decides the outcome.
 */
import { geminiExitCode, geminiModelCallView, GEMINI } from '../../core/agent/gemini.ts';
import {
  assistantMessages,
  GenAiAttr,
  sessionView,
  toolCallView,
  toolOutcome,
  userMessages,
  type OutputPart,
} from '../../core/agent/genai.ts';
import { toNs, type SessionCapture, type SpanView } from '../../core/agent/session-spans.ts';
import { clip, isRecord, list, num, parseRecord, rec, str, type JsonRecord } from './json-fields.ts';
import type { TranscriptParser } from './parser.ts';

function texts(content: unknown): string | undefined {
  if (typeof content === 'string') return content === '' ? undefined : content;
  const parts = (Array.isArray(content) ? content : [])
    .filter(isRecord)
    .map((p) => str(p, 'text'))
    .filter((t): t is string => t !== undefined);
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/** The output text of a tool's functionResponse parts. */
function responseOutput(parts: unknown[]): string | undefined {
  const outputs = parts
    .filter(isRecord)
    .map((p) => rec(rec(p, 'functionResponse'), 'response'))
    .map((r) => str(r, 'output') ?? str(r, 'error'))
    .filter((t): t is string => t !== undefined);
  return outputs.length > 0 ? outputs.join('\n') : undefined;
}

const stringify = (v: unknown): string | undefined => (v === undefined ? undefined : clip(JSON.stringify(v)));

class GeminiParser implements TranscriptParser {
  readonly skipped = new Map<string, number>();
  private sessionId: string | undefined;

  parseLine(line: string): SessionCapture[] {
    if (line.trim() === '') return [];
    const r = parseRecord(line);
    if (!r) return this.skip('broken JSON');
    if (str(r, 'sessionId') && str(r, 'startTime')) {
      this.sessionId = str(r, 'sessionId')!;
      return this.capture([
        sessionView(GEMINI, this.sessionId, {
          startNs: toNs(str(r, 'startTime')),
          attributes: { 'agentotel.session.kind': str(r, 'kind') },
        }),
      ]);
    }
    if (!this.sessionId) return this.skip('record before the session metadata');
    const set = rec(r, '$set');
    if (set) return this.patch(set, this.sessionId);
    const views = this.message(r, this.sessionId, false);
    return typeof views === 'string' ? this.skip(views) : this.capture(views);
  }

  private capture(views: SpanView[]): SessionCapture[] {
    return views.length === 0 ? [] : [{ agent: GEMINI, sessionId: this.sessionId!, path: 'transcript', views }];
  }

  private skip(reason: string): [] {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
    return [];
  }

  private patch(set: JsonRecord, sessionId: string): SessionCapture[] {
    const views: SpanView[] = [];
    const updated = toNs(str(set, 'lastUpdated'));
    if (updated !== undefined) views.push(sessionView(GEMINI, sessionId, { endNs: updated }));
    for (const m of list(set, 'messages').filter(isRecord)) {
      const v = this.message(m, sessionId, true);
      if (typeof v === 'string') this.skip(v);
      else views.push(...v);
    }
    if (views.length === 0) return this.skip(`$set of ${Object.keys(set).sort().join(',') || 'nothing'}`);
    return this.capture(views);
  }

  /** The views of one message record, or why it was skipped. */
  private message(m: JsonRecord, sessionId: string, inSnapshot: boolean): SpanView[] | string {
    const type = str(m, 'type');
    const ts = toNs(str(m, 'timestamp'));
    if (type === 'gemini') {
      const views = this.geminiMessage(m, ts);
      return views.length > 0 ? views : 'gemini message without usage or tool calls';
    }
    if (type !== 'user') return `message type ${clip(type ?? '(none)', 64)}`;
    const content = list(m, 'content');
    const results = content.filter((p) => isRecord(p) && isRecord(p.functionResponse)) as JsonRecord[];
    if (results.length > 0) return results.flatMap((p) => this.functionResponse(rec(p, 'functionResponse')!));
    if (inSnapshot) return 'user message of a history snapshot';
    const prompt = texts(m.content);
    if (prompt === undefined || ts === undefined) return 'user message without text or timestamp';
    const event = { name: 'user_prompt', timeNs: ts, attributes: { [GenAiAttr.inputMessages]: userMessages(clip(prompt)) } };
    return [sessionView(GEMINI, sessionId, { endNs: ts, events: [event] })];
  }

  private geminiMessage(m: JsonRecord, ts: bigint | undefined): SpanView[] {
    const toolCalls = list(m, 'toolCalls').filter(isRecord);
    const views = toolCalls.flatMap((c) => this.toolCall(c));
    const tokens = rec(m, 'tokens');
    const model = str(m, 'model');
    const input = num(tokens, 'input');
    if (model === undefined || input === undefined) return views;
    const parts: OutputPart[] = [];
    for (const t of list(m, 'thoughts').filter(isRecord)) {
      const subject = str(t, 'subject');
      const description = str(t, 'description') ?? '';
      parts.push({ type: 'reasoning', content: clip(subject ? `**${subject}**\n\n${description}` : description) });
    }
    const text = texts(m.content);
    if (text) parts.push({ type: 'text', content: clip(text) });
    for (const c of toolCalls)
      if (str(c, 'name')) parts.push({ type: 'tool_call', id: str(c, 'id'), name: str(c, 'name')!, arguments: c.args });
    const usage = { input, candidates: num(tokens, 'output') ?? 0, cached: num(tokens, 'cached'), thoughts: num(tokens, 'thoughts') };
    const view = { endNs: ts, attributes: { [GenAiAttr.outputMessages]: assistantMessages(parts) } };
    return [geminiModelCallView(model, usage, undefined, view), ...views];
  }

  private toolCall(c: JsonRecord): SpanView[] {
    const id = str(c, 'id');
    if (!id) return [];
    const result = responseOutput(list(c, 'result'));
    const status = str(c, 'status');
    const outcome = toolOutcome(geminiExitCode(result), status === undefined ? undefined : status !== 'success');
    const attributes = {
      [GenAiAttr.toolCallArguments]: stringify(c.args),
      [GenAiAttr.toolCallResult]: result && clip(result),
      ...outcome.attributes,
    };
    return [toolCallView(id, undefined, str(c, 'name'), { endNs: toNs(str(c, 'timestamp')), attributes, error: outcome.error })];
  }

  private functionResponse(r: JsonRecord): SpanView[] {
    const id = str(r, 'id');
    if (!id) return [];
    const result = responseOutput([{ functionResponse: r }]);
    const outcome = toolOutcome(geminiExitCode(result), undefined);
    const attributes = { [GenAiAttr.toolCallResult]: result && clip(result), ...outcome.attributes };
    return [toolCallView(id, undefined, str(r, 'name'), { attributes, error: outcome.error })];
  }
}

export const geminiFormat = {
  createParser: (): TranscriptParser => new GeminiParser(),
};
