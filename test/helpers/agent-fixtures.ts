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
import { getString, type AttributeValue } from '../../core/otlp/attributes.ts';
import { decodeJson, decodeProtobuf } from '../../core/otlp/codec.ts';
import type { LogRecord, LogsData, Span, TracesData } from '../../core/otlp/model.ts';
import type { AgentTelemetry } from '../../receivers/otlp/agents/agent-telemetry.ts';
import { coalesce } from '../../receivers/transcripts/coalesce.ts';
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

/** The transcript files (*.jsonl) of a scenario. */
export function transcriptFiles(dir: string): string[] {
  const root = path.join(dir, 'transcript');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => path.join(root, f))
    .sort();
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
    const json = contentType.includes('json');
    if (urlPath.endsWith('/traces'))
      out.push({
        file,
        contentType,
        signal: 'traces',
        data: json ? decodeJson('traces', body.toString('utf8')) : decodeProtobuf('traces', body),
      });
    if (urlPath.endsWith('/logs'))
      out.push({
        file,
        contentType,
        signal: 'logs',
        data: json ? decodeJson('logs', body.toString('utf8')) : decodeProtobuf('logs', body),
      });
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

/** What an agent's OTLP format makes of a scenario's requests, in arrival order (one instance, as a receiver has). */
export function otelCaptures(
  dir: string,
  format: AgentTelemetry,
): { captures: SessionCapture[]; restLogs: LogRecord[]; restSpans: Span[]; converted: number } {
  const out = { captures: [] as SessionCapture[], restLogs: [] as LogRecord[], restSpans: [] as Span[], converted: 0 };
  for (const request of otlpRequests(dir)) {
    if (request.signal === 'logs') {
      for (const rl of request.data.resourceLogs ?? []) {
        if (!format.owns(rl.resource)) throw new Error(`${request.file}: a resource ${format.agent} does not own`);
        const { captures, rest } = format.logs(rl);
        out.captures.push(...captures);
        out.restLogs.push(...rest);
        out.converted += (rl.scopeLogs ?? []).reduce((n, s) => n + (s.logRecords?.length ?? 0), 0) - rest.length;
      }
    } else {
      for (const rs of request.data.resourceSpans ?? []) {
        if (!format.owns(rs.resource)) throw new Error(`${request.file}: a resource ${format.agent} does not own`);
        const { captures, rest } = format.spans(rs);
        out.captures.push(...captures);
        out.restSpans.push(...rest);
        out.converted += (rs.scopeSpans ?? []).reduce((n, s) => n + (s.spans?.length ?? 0), 0) - rest.length;
      }
    }
  }
  return out;
}
