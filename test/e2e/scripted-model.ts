/**
 * A scripted Anthropic Messages API for the real Claude Code CLI (ANTHROPIC_BASE_URL). It
 * streams replies as the real API does (SSE: message_start, content_block_start / delta / stop
 * for text and tool_use blocks, message_delta with usage, message_stop; `request-id: req_…`
 * header, `msg_…` ids, usage with cache fields), or answers with an API error.
 *
 * A script names conversation threads by their opening prompt: the user's prompt for the main
 * conversation, the task prompt for a subagent. A request belongs to the thread whose prompt
 * is the latest user text in its messages; its step is the number of assistant turns after it.
 * So a resumed session (history + new prompt) and a subagent (its own conversation) each find
 * their replies, and a retried request asks for the same step again.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export interface ScriptedToolUse {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface ScriptedError {
  status: number;
  type: string;
  message: string;
}

/** One model turn: optional text, then tool uses. `failFirst` answers that many attempts with the error before it. */
export interface ScriptedReply {
  text?: string;
  tools?: ScriptedToolUse[];
  usage: Usage;
  failFirst?: { times: number; error: ScriptedError };
}

/** Opening prompt of a thread → its replies, one per step. */
export type Script = Record<string, ScriptedReply[]>;

/** What the server did with one request to /v1/messages. */
export interface ModelExchange {
  /** The CLI's x-claude-code-session-id header. */
  sessionId: string | undefined;
  thread: string | undefined;
  step: number;
  model: string;
  stream: boolean;
  status: number;
  requestId: string;
  messageId?: string;
  usage?: Usage;
  toolUseIds: string[];
  /** tool_result blocks the request carried, with their is_error flag. */
  toolResults: { toolUseId: string; isError: boolean }[];
}

export interface ScriptedModel {
  url: string;
  /** Replaces the script (a new scenario); exchanges are kept until `reset`. */
  load(script: Script): void;
  exchanges(): ModelExchange[];
  /** Requests the script could not answer (unknown thread or step, unknown path). */
  unexpected(): string[];
  reset(): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function contentBlocks(message: Json): Json[] {
  const c = message.content;
  if (typeof c === 'string') return [{ type: 'text', text: c }];
  return Array.isArray(c) ? c.filter(isObject) : [];
}

/** The user texts of a message that are not the CLI's own <system-reminder> context. */
function userTexts(message: Json): string[] {
  return contentBlocks(message)
    .filter((b) => b.type === 'text' && typeof b.text === 'string' && !b.text.trimStart().startsWith('<system-reminder>'))
    .map((b) => b.text as string);
}

/** The thread (script key) of a request and how many assistant turns it has had since its prompt. */
export function locateThread(script: Script, messages: Json[]): { thread: string | undefined; step: number } {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    const texts = userTexts(m);
    const thread = Object.keys(script).find((prompt) => texts.some((t) => t.includes(prompt)));
    if (thread === undefined) continue;
    const step = messages.slice(i + 1).filter((later) => later.role === 'assistant').length;
    return { thread, step };
  }
  return { thread: undefined, step: 0 };
}

function sse(res: ServerResponse, event: string, data: Json): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function fullUsage(u: Usage): Json {
  return {
    ...u,
    cache_creation: { ephemeral_5m_input_tokens: u.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
    service_tier: 'standard',
  };
}

function streamMessage(res: ServerResponse, id: string, model: string, reply: ScriptedReply, stopReason: string): void {
  const u = reply.usage;
  sse(res, 'message_start', {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: fullUsage({ ...u, output_tokens: 1 }),
    },
  });
  let index = 0;
  if (reply.text !== undefined) {
    sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    sse(res, 'ping', { type: 'ping' });
    // Two deltas, as a real stream splits text.
    const cut = Math.ceil(reply.text.length / 2);
    for (const part of [reply.text.slice(0, cut), reply.text.slice(cut)]) {
      if (part) sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: part } });
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
    index++;
  }
  for (const tool of reply.tools ?? []) {
    sse(res, 'content_block_start', {
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id: tool.id, name: tool.name, input: {} },
    });
    const json = JSON.stringify(tool.input);
    const cut = Math.ceil(json.length / 2);
    for (const part of ['', json.slice(0, cut), json.slice(cut)]) {
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } });
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
    index++;
  }
  sse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: {
      input_tokens: u.input_tokens,
      cache_creation_input_tokens: u.cache_creation_input_tokens,
      cache_read_input_tokens: u.cache_read_input_tokens,
      output_tokens: u.output_tokens,
    },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

function messageBody(id: string, model: string, reply: ScriptedReply, stopReason: string): Json {
  const content: Json[] = [];
  if (reply.text !== undefined) content.push({ type: 'text', text: reply.text });
  for (const t of reply.tools ?? []) content.push({ type: 'tool_use', id: t.id, name: t.name, input: t.input });
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: fullUsage(reply.usage),
  };
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  if (!isObject(parsed)) throw new Error('request body is not a JSON object');
  return parsed;
}

function sendJson(res: ServerResponse, status: number, requestId: string, body: Json): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId });
  res.end(JSON.stringify(body));
}

/** The tool results of the request's last user message (system messages may follow it). */
function toolResults(messages: Json[]): { toolUseId: string; isError: boolean }[] {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return [];
  return contentBlocks(last)
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({ toolUseId: String(b.tool_use_id), isError: b.is_error === true }));
}

export async function startScriptedModel(): Promise<ScriptedModel> {
  let script: Script = {};
  let exchanges: ModelExchange[] = [];
  let unexpected: string[] = [];
  let seq = 0;
  const attempts = new Map<string, number>();

  async function messages(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const body = await readJson(req);
    const msgs = Array.isArray(body.messages) ? body.messages.filter(isObject) : [];
    const model = typeof body.model === 'string' ? body.model : 'unknown';
    const stream = body.stream === true;
    const { thread, step } = locateThread(script, msgs);
    const reply = thread === undefined ? undefined : script[thread]![step];
    const sessionHeader = req.headers['x-claude-code-session-id'];
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader : undefined;
    const exchange: ModelExchange = {
      sessionId,
      thread,
      step,
      model,
      stream,
      status: 200,
      requestId,
      toolUseIds: [],
      toolResults: toolResults(msgs),
    };
    exchanges.push(exchange);
    if (reply === undefined) {
      const lastTexts = msgs
        .filter((m) => m.role === 'user')
        .flatMap(userTexts)
        .slice(-1);
      unexpected.push(
        `no scripted reply for thread ${JSON.stringify(thread)} step ${step} (latest user text ${JSON.stringify(lastTexts[0]?.slice(0, 120))})`,
      );
      exchange.status = 400;
      sendJson(res, 400, requestId, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'scripted model: no reply scripted for this request' },
        request_id: requestId,
      });
      return;
    }
    const key = `${thread}\u0000${step}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    if (reply.failFirst && attempt <= reply.failFirst.times) {
      const { status, type, message } = reply.failFirst.error;
      exchange.status = status;
      sendJson(res, status, requestId, { type: 'error', error: { type, message }, request_id: requestId });
      return;
    }
    const messageId = `msg_01E2e${String(seq).padStart(6, '0')}scripted`;
    const stopReason = reply.tools?.length ? 'tool_use' : 'end_turn';
    Object.assign(exchange, { messageId, usage: reply.usage, toolUseIds: (reply.tools ?? []).map((t) => t.id) });
    if (!stream) return sendJson(res, 200, requestId, messageBody(messageId, model, reply, stopReason));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': requestId });
    streamMessage(res, messageId, model, reply, stopReason);
  }

  const server: Server = createServer((req, res) => {
    seq++;
    const requestId = `req_01E2e${String(seq).padStart(6, '0')}scripted`;
    const path = (req.url ?? '').split('?')[0];
    const done = (err: unknown) => {
      unexpected.push(`${req.method} ${req.url}: ${String(err)}`);
      if (!res.headersSent) sendJson(res, 500, requestId, { type: 'error', error: { type: 'api_error', message: String(err) } });
      else res.end();
    };
    if (req.method === 'POST' && path === '/v1/messages') {
      messages(req, res, requestId).catch(done);
    } else if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      req.resume();
      sendJson(res, 200, requestId, { input_tokens: 1000 });
    } else {
      req.resume();
      unexpected.push(`${req.method} ${req.url}: no such endpoint in the scripted model`);
      sendJson(res, 404, requestId, { type: 'error', error: { type: 'not_found_error', message: `scripted model: ${path}` } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    load: (s) => {
      script = s;
      attempts.clear();
    },
    exchanges: () => exchanges,
    unexpected: () => unexpected,
    reset: () => {
      exchanges = [];
      unexpected = [];
      attempts.clear();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
