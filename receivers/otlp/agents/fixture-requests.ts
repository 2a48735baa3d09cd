/** Test support: the captured OTLP requests of the agent fixtures, decoded, and the views they produce merged per span. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SessionCapture, SpanView } from '../../../core/agent/session-spans.ts';
import { decodeJson, decodeProtobuf } from '../../../core/otlp/codec.ts';
import type { LogsData, TracesData } from '../../../core/otlp/model.ts';
import { fixturesDir, otlpCaptures, type OtlpCapture } from '../../../test/helpers/fixtures.ts';
import type { AgentTelemetry } from './agent-telemetry.ts';
import { CaptureSet } from './capture-set.ts';

export type Capture = OtlpCapture & { body: Buffer };

/** Scenarios of an agent with OTLP captures and a facts.json. */
export function scenariosWithFacts(agent: string): string[] {
  return readdirSync(path.join(fixturesDir, agent)).filter(
    (s) =>
      existsSync(path.join(fixturesDir, agent, s, 'facts.json')) && existsSync(path.join(fixturesDir, agent, s, 'otlp', 'index.jsonl')),
  );
}

export function factsOf<T>(agent: string, scenario: string): T {
  return JSON.parse(readFileSync(path.join(fixturesDir, agent, scenario, 'facts.json'), 'utf8')) as T;
}

/** JSON bodies by their content type; protobuf and gRPC captures (the raw request message) as protobuf. */
export function decodeCapture(c: Capture): LogsData | TracesData {
  if (c.signal === 'metrics') throw new Error('metrics captures are not agent telemetry');
  return c.content_type === 'application/json' ? decodeJson(c.signal, c.body.toString('utf8')) : decodeProtobuf(c.signal, c.body);
}

/** Runs every logs (and, with `withSpans`, traces) request of a scenario through one format instance, in the order sent. */
export function runScenario(format: AgentTelemetry, agent: string, scenario: string, withSpans: boolean) {
  const captures: SessionCapture[] = [];
  const rest: { logs: unknown[]; spans: unknown[] } = { logs: [], spans: [] };
  for (const c of otlpCaptures(`${agent}/${scenario}`)) {
    if (c.signal === 'logs') {
      for (const rl of (decodeCapture(c) as LogsData).resourceLogs ?? []) {
        const out = format.logs(rl);
        captures.push(...out.captures);
        rest.logs.push(...out.rest);
      }
    } else if (c.signal === 'traces' && withSpans) {
      for (const rs of (decodeCapture(c) as TracesData).resourceSpans ?? []) {
        const out = format.spans(rs);
        captures.push(...out.captures);
        rest.spans.push(...out.rest);
      }
    }
  }
  return { captures, rest };
}

/** The views of all captures merged per span, as one request's views merge (earliest start, latest end, …). */
export function mergedViews(captures: SessionCapture[]): SpanView[] {
  const set = new CaptureSet(captures[0]?.agent ?? 'claude-code', (ref) => ref.kind);
  for (const c of captures) for (const v of c.views) set.session(c.sessionId, {}).add(v);
  return set.captures().flatMap((c) => c.views);
}
