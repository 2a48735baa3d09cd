/**
 * The Codex and Gemini CLI captures in ../shared/fixtures/<agent>/<scenario>/: hook payloads,
 * transcript files and OTLP requests in the order the CLI produced them, and the facts each
 * scenario's MANIFEST.md states ("## Expected facts"), the oracle of the converters' tests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AgentAttr,
  capturesToTraces,
  toNs,
  type AgentSpanKind,
  type SessionCapture,
  type SpanView,
} from '../../core/agent/session-spans.ts';
import { GenAiAttr } from '../../core/agent/genai.ts';
import { getString, type AttributeValue } from '../../core/otlp/attributes.ts';
import { decodeJson, decodeProtobuf } from '../../core/otlp/codec.ts';
import type { KeyValue, LogRecord, LogsData, Resource, ResourceLogs, ResourceSpans, Span, TracesData } from '../../core/otlp/model.ts';
import type { HookFormat } from '../../receivers/hooks/hook-format.ts';
import type { AgentTelemetry } from '../../receivers/otlp/agents/agent-telemetry.ts';
import { coalesce } from '../../receivers/transcripts/coalesce.ts';
import type { TranscriptFormat } from '../../receivers/transcripts/formats.ts';
import { fixturesDir } from './fixtures.ts';

export interface ManifestToolCall {
  name: string;
  id: string;
  args: Record<string, unknown>;
  /** "exit code 0", "status success" as the MANIFEST states it. */
  result: { exitCode?: number; status?: string };
}

export interface ManifestFacts {
  sessionId: string;
  prompt: string;
  toolCalls: ManifestToolCall[];
  /** The token usage JSON the CLI reported. */
  cliUsage: Record<string, unknown>;
  /** Named totals of the "Scripted token totals" line ("thoughts 18", "reasoning 16", …). */
  scriptedTotals: Record<string, number>;
  finalAnswer: string;
}

/** The scenario folders of an agent (those with a MANIFEST.md). */
export function agentScenarios(agent: string): string[] {
  const root = path.join(fixturesDir, agent);
  return readdirSync(root)
    .filter((d) => existsSync(path.join(root, d, 'MANIFEST.md')))
    .map((d) => path.join(root, d));
}

/** An agent's scenarios as describe.each rows: [folder name, folder]. */
export const scenarioRows = (agent: string): [string, string][] => agentScenarios(agent).map((d) => [path.basename(d), d]);

function must(m: RegExpExecArray | null, what: string, dir: string): RegExpExecArray {
  if (!m) throw new Error(`${dir}/MANIFEST.md: no ${what} in "Expected facts"`);
  return m;
}

export function manifestFacts(dir: string): ManifestFacts {
  const manifest = readFileSync(path.join(dir, 'MANIFEST.md'), 'utf8');
  const facts = must(/## Expected facts\n([\s\S]*?)\n## /.exec(manifest), 'section', dir)[1]!;
  const toolCalls = [...facts.matchAll(/^ {2}- `([^`]+)` id `([^`]+)` args `([^`]+)` → (exit code (-?\d+)|status (\w+))$/gm)].map((m) => ({
    name: m[1]!,
    id: m[2]!,
    args: JSON.parse(m[3]!) as Record<string, unknown>,
    result: m[5] !== undefined ? { exitCode: Number(m[5]) } : { status: m[6]! },
  }));
  // "prompt 16492, …, thoughts 18 (plus the routing request: …)": the totals before the parenthesis.
  const scripted = must(/^- Scripted token totals[^:]*: ([^(\n]+)/m.exec(facts), 'scripted token totals', dir)[1]!;
  return {
    sessionId: must(/^- Session id: `([^`]+)`$/m.exec(facts), 'session id', dir)[1]!,
    prompt: must(/^- User prompt: `([^`]+)`$/m.exec(facts), 'user prompt', dir)[1]!,
    toolCalls,
    cliUsage: JSON.parse(must(/^- Token usage as reported by the CLI: `(.+)`$/m.exec(facts), 'CLI token usage', dir)[1]!) as Record<
      string,
      unknown
    >,
    scriptedTotals: Object.fromEntries([...scripted.matchAll(/([a-z]+) (\d+)/g)].map((m) => [m[1]!, Number(m[2])])),
    finalAnswer: must(/^- Final answer: "(.+)"$/m.exec(facts), 'final answer', dir)[1]!,
  };
}

export interface HookInvocation {
  event: string;
  payload: Record<string, unknown>;
  receivedNs: bigint;
}

/** The hook payloads in the order the CLI ran the hooks, with the time they were captured. */
export function hookInvocations(dir: string): HookInvocation[] {
  const index = JSON.parse(readFileSync(path.join(dir, 'hooks', 'index.json'), 'utf8')) as {
    file: string;
    hookEvent: string;
    capturedAt: string;
  }[];
  return index.map((h) => ({
    event: h.hookEvent,
    payload: JSON.parse(readFileSync(path.join(dir, 'hooks', h.file), 'utf8')) as Record<string, unknown>,
    receivedNs: toNs(h.capturedAt)!,
  }));
}

/** A scenario's facts, its hooks and what a hook format makes of them (captures, and their views folded). */
export function hookScenario(dir: string, format: HookFormat) {
  const hooks = hookInvocations(dir);
  const captures = hooks.map((h) => format.toCapture(h.payload, h.receivedNs));
  return { facts: manifestFacts(dir), hooks, captures, views: foldViews(captures) };
}

/** The transcript files (*.jsonl) of a scenario. */
export function transcriptFiles(dir: string): string[] {
  const root = path.join(dir, 'transcript');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => path.join(root, f))
    .sort();
}

export const transcriptLines = (file: string): string[] => readFileSync(file, 'utf8').split('\n');

/** A scenario's facts and its transcript files, the first one's lines read. */
export function transcriptScenario(dir: string) {
  const [file, ...others] = transcriptFiles(dir);
  return { facts: manifestFacts(dir), file: file!, others, lines: transcriptLines(file!) };
}

/** Lines of a transcript through one parser of `format`: what each line gave, all the captures, and their views folded. */
export function parseTranscript(format: TranscriptFormat, lines: string[], file = 'transcript.jsonl') {
  const parser = format.createParser(file);
  const perLine = lines.map((l) => parser.parseLine(l));
  const captures = perLine.flat();
  return { parser, perLine, captures, views: foldViews(captures) };
}

/** What a transcript format makes of the scenario's transcript files, each read by its own parser. */
export function transcriptCaptures(dir: string, format: TranscriptFormat): SessionCapture[] {
  return transcriptFiles(dir).flatMap((file) => parseTranscript(format, transcriptLines(file), file).captures);
}

export type OtlpRequest = { file: string; contentType: string } & (
  { signal: 'traces'; data: TracesData } | { signal: 'logs'; data: LogsData }
);

/** The scenario's OTLP trace and log requests, decoded (JSON or protobuf), in arrival order. */
export function otlpRequests(dir: string): OtlpRequest[] {
  const root = path.join(dir, 'otlp');
  const index = JSON.parse(readFileSync(path.join(root, 'index.json'), 'utf8')) as { file: string; path: string; contentType: string }[];
  const out: OtlpRequest[] = [];
  for (const { file, path: urlPath, contentType } of index) {
    const body = readFileSync(path.join(root, file));
    const decode = <S extends 'traces' | 'logs'>(signal: S) =>
      contentType.includes('json') ? decodeJson(signal, body.toString('utf8')) : decodeProtobuf(signal, body);
    if (urlPath.endsWith('/traces')) out.push({ file, contentType, signal: 'traces', data: decode('traces') });
    if (urlPath.endsWith('/logs')) out.push({ file, contentType, signal: 'logs', data: decode('logs') });
  }
  return out;
}

// ── reading what a converter made of them ────────────────────────────────────

/** One view per span of the captures (the views of a span folded as the transcripts receiver folds them). */
export function foldViews(captures: SessionCapture[]): SpanView[] {
  return coalesce(captures).flatMap((c) => c.views);
}

export const viewsOf = (views: SpanView[], kind: AgentSpanKind): SpanView[] => views.filter((v) => v.ref.kind === kind);

export const attr = (view: SpanView | undefined, key: string): AttributeValue | undefined => view?.attributes?.[key];

/** The sum of a numeric attribute over the views (NaN when one lacks it). */
export const sumOf = (views: SpanView[], key: string): number => views.reduce((n, v) => n + (attr(v, key) as number), 0);

/** The token sums of Codex's model calls, named as the Codex CLI reports its usage (cached within input, reasoning within output). */
export function codexUsageOf(calls: SpanView[]): Record<string, number> {
  return {
    input_tokens: sumOf(calls, GenAiAttr.inputTokens),
    cached_input_tokens: sumOf(calls, GenAiAttr.cacheReadTokens),
    output_tokens: sumOf(calls, GenAiAttr.outputTokens),
    reasoning_output_tokens: sumOf(calls, GenAiAttr.reasoningTokens),
  };
}

/** The text parts of a gen_ai.input/output.messages attribute, joined. */
export function messageText(messages: AttributeValue | undefined): string | undefined {
  if (typeof messages !== 'string') return undefined;
  const parsed = JSON.parse(messages) as { parts: { type: string; content?: string }[] }[];
  return parsed.flatMap((m) => m.parts.filter((p) => p.type === 'text').map((p) => p.content)).join('');
}

/** The span ids the captures' spans of one kind get, as the pipeline receives them. */
export function spanIds(captures: SessionCapture[], kind: AgentSpanKind): Set<string> {
  const ids = new Set<string>();
  for (const rs of capturesToTraces(captures).resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? []) if (getString(s.attributes, AgentAttr.spanKind) === kind) ids.add(`${s.traceId}/${s.spanId}`);
  return ids;
}

/** The scenario's resource logs alone, in arrival order (as a receiver without the agent's trace exporter gets them). */
export const resourceLogsOf = (dir: string): ResourceLogs[] =>
  otlpRequests(dir).flatMap((r) => (r.signal === 'logs' ? (r.data.resourceLogs ?? []) : []));

/** The scenario's resource spans alone, in arrival order. */
export const resourceSpansOf = (dir: string): ResourceSpans[] =>
  otlpRequests(dir).flatMap((r) => (r.signal === 'traces' ? (r.data.resourceSpans ?? []) : []));

/** `item` with `change` applied to the string value of its attribute `key`. */
function changeString<T extends { attributes?: KeyValue[] }>(item: T, key: string, change: (value: string) => string): T {
  const attributes = item.attributes?.map((kv) => (kv.key === key ? { key, value: { stringValue: change(kv.value!.stringValue!) } } : kv));
  return { ...item, attributes };
}

/** The log records with `change` applied to their string attribute `key`. */
export function changeLogAttribute(rls: ResourceLogs[], key: string, change: (value: string) => string): ResourceLogs[] {
  return rls.map((rl) => ({
    ...rl,
    scopeLogs: rl.scopeLogs?.map((s) => ({ ...s, logRecords: s.logRecords?.map((r) => changeString(r, key, change)) })),
  }));
}

/** The spans named `name` with `change` applied to their string attribute `key`. */
export function changeSpanAttribute(rss: ResourceSpans[], name: string, key: string, change: (value: string) => string): ResourceSpans[] {
  return rss.map((rs) => ({
    ...rs,
    scopeSpans: rs.scopeSpans?.map((s) => ({
      ...s,
      spans: s.spans?.map((span) => (span.name === name ? changeString(span, key, change) : span)),
    })),
  }));
}

/** What an agent's OTLP format makes of a scenario's requests, in arrival order (one instance, as a receiver has). */
export function otelCaptures(
  dir: string,
  format: AgentTelemetry,
): { captures: SessionCapture[]; restLogs: LogRecord[]; restSpans: Span[]; converted: number } {
  const out = { captures: [] as SessionCapture[], restLogs: [] as LogRecord[], restSpans: [] as Span[], converted: 0 };
  /** Converts the resources of one request, keeping what the format passes on in `rest`; `items` counts a resource's records or spans. */
  const convert = <R extends { resource?: Resource }, T>(
    file: string,
    resources: R[],
    items: (r: R) => number,
    toCaptures: (r: R) => { captures: SessionCapture[]; rest: T[] },
    rest: T[],
  ) => {
    for (const r of resources) {
      if (!format.owns(r.resource)) throw new Error(`${file}: a resource ${format.agent} does not own`);
      const converted = toCaptures(r);
      out.captures.push(...converted.captures);
      rest.push(...converted.rest);
      out.converted += items(r) - converted.rest.length;
    }
  };
  for (const request of otlpRequests(dir)) {
    if (request.signal === 'logs') {
      const records = (rl: ResourceLogs) => (rl.scopeLogs ?? []).reduce((n, s) => n + (s.logRecords?.length ?? 0), 0);
      convert(request.file, request.data.resourceLogs ?? [], records, (rl) => format.logs(rl), out.restLogs);
    } else {
      const spans = (rs: ResourceSpans) => (rs.scopeSpans ?? []).reduce((n, s) => n + (s.spans?.length ?? 0), 0);
      convert(request.file, request.data.resourceSpans ?? [], spans, (rs) => format.spans(rs), out.restSpans);
    }
  }
  return out;
}
