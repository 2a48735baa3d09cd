/**
 * Scripted model APIs for the real Codex and Gemini CLIs, one server for both, as the fixtures
 * were captured (their MANIFESTs): the OpenAI Responses API (`POST …/responses`, SSE:
 * response.created, output_item.added / done per item, response.completed with usage) for a
 * Codex model provider, and the Gemini API (`…:generateContent` answered with the routing
 * classifier's JSON, `…:streamGenerateContent?alt=sse` chunks, the last with finishReason and
 * usageMetadata) for GOOGLE_GEMINI_BASE_URL. Each API answers its main requests with the next
 * step of its script; anything else (Codex's analytics POST) gets a 404 and is noted.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CodexStep {
  reasoning?: string;
  text?: string;
  call?: { callId: string; name: string; arguments: Record<string, unknown> };
  usage: { input: number; cached: number; output: number; reasoning: number };
}

export interface GeminiStep {
  thought?: string;
  text?: string;
  call?: { name: string; args: Record<string, unknown> };
  usage: { prompt: number; candidates: number; cached: number; thoughts: number };
}

/** What the routing classifier's generateContent calls get. */
export const ROUTER_USAGE = { prompt: 50, candidates: 10 };

export interface ModelRequest {
  path: string;
  status: number;
  /** The step of its script the request got (main requests). */
  step?: number;
}

export interface AgentModels {
  url: string;
  requests(): ModelRequest[];
  close(): Promise<void>;
}

function sse(res: ServerResponse, type: string, body: object): void {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`);
}

function respondCodex(res: ServerResponse, step: CodexStep, n: number, model: string): void {
  const id = `resp_e2e_${n}`;
  const output: object[] = [];
  if (step.reasoning) output.push({ type: 'reasoning', id: `rs_e2e_${n}`, summary: [{ type: 'summary_text', text: step.reasoning }] });
  if (step.text)
    output.push({
      type: 'message',
      id: `msg_e2e_${n}`,
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: step.text, annotations: [] }],
    });
  if (step.call)
    output.push({
      type: 'function_call',
      id: `fc_e2e_${n}`,
      status: 'completed',
      call_id: step.call.callId,
      name: step.call.name,
      arguments: JSON.stringify(step.call.arguments),
    });
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  sse(res, 'response.created', { response: { id, object: 'response', status: 'in_progress', model, output: [] } });
  output.forEach((item, i) => {
    sse(res, 'response.output_item.added', { output_index: i, item });
    sse(res, 'response.output_item.done', { output_index: i, item });
  });
  const u = step.usage;
  const usage = {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: u.input + u.output,
  };
  sse(res, 'response.completed', { response: { id, object: 'response', status: 'completed', model, output, usage } });
  res.end();
}

function respondGeminiStream(res: ServerResponse, step: GeminiStep, n: number, model: string): void {
  const responseId = `gemini-e2e-${n}`;
  const u = step.usage;
  const usageMetadata = {
    promptTokenCount: u.prompt,
    candidatesTokenCount: u.candidates,
    cachedContentTokenCount: u.cached,
    thoughtsTokenCount: u.thoughts,
    totalTokenCount: u.prompt + u.candidates + u.thoughts,
  };
  // The last chunk carries the finish reason and the usage, as the Gemini API streams it.
  const chunk = (parts: object[], last = false) => {
    const candidate = { content: { role: 'model', parts }, index: 0, ...(last && { finishReason: 'STOP' }) };
    res.write(
      `data: ${JSON.stringify({ candidates: [candidate], ...(last && { usageMetadata }), responseId, modelVersion: model })}\r\n\r\n`,
    );
  };
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  if (step.thought) chunk([{ text: step.thought, thought: true }]);
  if (step.text) chunk([{ text: step.text }]);
  chunk(step.call ? [{ functionCall: step.call }] : [], true);
  res.end();
}

function respondGeminiRouter(res: ServerResponse, model: string): void {
  const text = JSON.stringify({ complexity_reasoning: 'A single shell command.', complexity_score: 10 });
  const usageMetadata = {
    promptTokenCount: ROUTER_USAGE.prompt,
    candidatesTokenCount: ROUTER_USAGE.candidates,
    totalTokenCount: ROUTER_USAGE.prompt + ROUTER_USAGE.candidates,
  };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata,
      responseId: 'gemini-e2e-router',
      modelVersion: model,
    }),
  );
}

export async function startAgentModels(script: { codex: CodexStep[]; gemini: GeminiStep[] }): Promise<AgentModels> {
  const requests: ModelRequest[] = [];
  let codexStep = 0;
  let geminiStep = 0;
  const handle = (req: IncomingMessage, res: ServerResponse, body: string): ModelRequest => {
    const path = (req.url ?? '').split('?')[0]!;
    const gemini = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path);
    if (req.method === 'POST' && path.endsWith('/responses')) {
      const step = codexStep++;
      const model = (JSON.parse(body) as { model?: string }).model ?? 'unknown';
      if (step >= script.codex.length) return { path, status: res.writeHead(500).end().statusCode };
      respondCodex(res, script.codex[step]!, step + 1, model);
      return { path, status: 200, step };
    }
    if (req.method === 'POST' && gemini?.[2] === 'generateContent') {
      respondGeminiRouter(res, gemini[1]!);
      return { path, status: 200 };
    }
    if (req.method === 'POST' && gemini?.[2] === 'streamGenerateContent') {
      const step = geminiStep++;
      if (step >= script.gemini.length) return { path, status: res.writeHead(500).end().statusCode };
      respondGeminiStream(res, script.gemini[step]!, step + 1, gemini[1]!);
      return { path, status: 200, step };
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    return { path, status: 404 };
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => requests.push(handle(req, res, body)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...requests],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
