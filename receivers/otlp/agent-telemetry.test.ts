/**
 * The receiver turns coding-agent telemetry into session spans: every captured Claude Code
 * request is replayed over real OTLP/HTTP (as Claude Code sent it) and OTLP/gRPC; its logs
 * reach the traces pipeline as the session's spans and the logs pipeline as the rest, its spans
 * are mapped onto the same session spans, its metrics go on unchanged. The client is answered
 * only after every consumer acknowledged.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { agentSpanId, sessionTraceId, type SpanRef } from '../../core/agent/session-spans.ts';
import { anyValueToJs } from '../../core/otlp/attributes.ts';
import { decodeJson, decodeProtobuf, encodeProtobuf } from '../../core/otlp/codec.ts';
import type { LogRecord, LogsData, Signal, SignalData, TracesData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { otlpCaptures } from '../../test/helpers/fixtures.ts';
import { factsOf, scenariosWithFacts } from './agents/fixture-requests.ts';
import { EPHEMERAL, grpcExport, logsRequest, startTestReceiver, type TestReceiver } from './test-harness.ts';

interface Facts {
  session_ids: string[];
  prompts: { items: { prompt_id: string }[] };
  tool_calls: { items: { tool_use_id: string }[] };
  scripted_model_calls: { successful: number };
}

const AGENT = 'claude-code';
const KEPT_AS_LOGS = new Set(['claude_code.managed_settings_resolved', 'claude_code.hook_registered', 'claude_code.plugin_loaded']);

type Capture = ReturnType<typeof otlpCaptures>[number];
const decoded = <S extends Signal>(c: Capture & { signal: S }): SignalData[S] =>
  c.content_type === 'application/json' ? decodeJson(c.signal, c.body.toString('utf8')) : decodeProtobuf(c.signal, c.body);

async function send(rx: TestReceiver, transport: 'http' | 'grpc', c: Capture): Promise<number> {
  if (transport === 'grpc') {
    const body = c.content_type === 'application/json' ? encodeProtobuf(c.signal, decoded(c)) : c.body;
    const { error } = await grpcExport(rx.grpc, c.signal, body);
    return error ? error.code : 0;
  }
  // A gRPC capture is the raw protobuf request message.
  const contentType = c.content_type === 'application/grpc' ? 'application/x-protobuf' : c.content_type;
  const res = await fetch(`http://${rx.http}/v1/${c.signal}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new Uint8Array(c.body),
  });
  await res.arrayBuffer();
  return res.status;
}

const allSpans = (batches: TracesData[]) => batches.flatMap((b) => [...eachSpan(b)]);
const logRecords = (batches: LogsData[]): LogRecord[] =>
  batches.flatMap((b) => (b.resourceLogs ?? []).flatMap((rl) => (rl.scopeLogs ?? []).flatMap((s) => s.logRecords ?? [])));

function clear(rx: TestReceiver): void {
  rx.received.traces.length = 0;
  rx.received.logs.length = 0;
  rx.received.metrics.length = 0;
}

describe('OTLP receiver with Claude Code telemetry', () => {
  let rx: TestReceiver;
  beforeAll(async () => {
    rx = await startTestReceiver();
  });
  afterAll(() => rx.stop());
  beforeEach(() => clear(rx));

  for (const transport of ['http', 'grpc'] as const) {
    for (const scenario of scenariosWithFacts(AGENT)) {
      it(`${scenario} over ${transport}: logs become the session's spans plus the rest as logs, spans are mapped, metrics go on`, async () => {
        const facts = factsOf<Facts>(AGENT, scenario);
        const traceIds = new Set(facts.session_ids.map((s) => sessionTraceId(AGENT, s)));
        for (const c of otlpCaptures(`${AGENT}/${scenario}`)) {
          const before = { traces: rx.received.traces.length, logs: rx.received.logs.length, metrics: rx.received.metrics.length };
          expect(await send(rx, transport, c), c.file).toBe(transport === 'http' ? 200 : 0);
          if (c.signal === 'metrics') {
            expect(rx.received.metrics.slice(before.metrics)).toEqual([decoded(c)]);
            continue;
          }
          const spans = allSpans(rx.received.traces.slice(before.traces));
          expect(spans.length, c.file).toBeGreaterThan(0);
          expect(
            spans.every((s) => traceIds.has(s.span.traceId) && s.scope?.name === 'agentotel/otel'),
            c.file,
          ).toBe(true);
          expect(
            spans.some((s) => s.span.name.startsWith('claude_code.')),
            c.file,
          ).toBe(false);
          for (const r of logRecords(rx.received.logs.slice(before.logs))) {
            const session = anyValueToJs(r.attributes?.find((a) => a.key === 'session.id')?.value);
            // Set-up records, and start-up records of a --continue's transient session, stay logs.
            expect(KEPT_AS_LOGS.has(r.body!.stringValue!) || !facts.session_ids.includes(String(session)), r.body?.stringValue).toBe(true);
          }
        }
        // Every prompt, model call and tool call of the facts is a span of the session's trace.
        const ids = new Set(allSpans(rx.received.traces).map((s) => s.span.spanId));
        const traceId = sessionTraceId(AGENT, facts.session_ids[0]!);
        const has = (ref: SpanRef) => ids.has(agentSpanId(traceId, ref));
        expect(has({ kind: 'session', key: facts.session_ids[0]! })).toBe(true);
        expect(facts.prompts.items.every((p) => has({ kind: 'prompt', key: p.prompt_id }))).toBe(true);
        expect(facts.tool_calls.items.every((t) => has({ kind: 'tool_call', key: t.tool_use_id }))).toBe(true);
        const modelCalls = allSpans(rx.received.traces).filter((s) => s.span.name.startsWith('chat '));
        expect(new Set(modelCalls.map((s) => s.span.spanId)).size).toBe(facts.scripted_model_calls.successful);
      });
    }
  }

  it('counts the agent log records it converted and kept', () => {
    const get = (outcome: string) =>
      rx.metrics.counter('agentotel_receiver_agent_log_records_total', '').get({ receiver: 'otlp', agent: AGENT, outcome });
    expect(get('converted')).toBeGreaterThan(0);
    expect(get('kept')).toBeGreaterThan(0);
    // The client's items are what the receiver reports accepted, not what it made of them.
    const accepted = rx.metrics.counter('agentotel_receiver_accepted_log_records_total', '').get({ receiver: 'otlp', transport: 'http' });
    expect(accepted).toBe(
      scenariosWithFacts(AGENT)
        .flatMap((s) => otlpCaptures(`${AGENT}/${s}`))
        .filter((c) => c.signal === 'logs')
        .reduce((n, c) => n + logRecords([decoded(c as Capture & { signal: 'logs' })]).length, 0),
    );
  });

  it('passes resources of no known agent on unchanged, in the same request as an agent’s', async () => {
    const [claude] = otlpCaptures(`${AGENT}/a-baseline`).filter((c) => c.signal === 'logs');
    const request = decoded(claude as Capture & { signal: 'logs' });
    const foreign = logsRequest(3).resourceLogs![0]!;
    request.resourceLogs!.push(foreign);
    const { error } = await grpcExport(rx.grpc, 'logs', encodeProtobuf('logs', request));
    expect(error).toBeNull();
    expect(rx.received.logs).toHaveLength(1);
    expect(rx.received.logs[0]!.resourceLogs!.at(-1)).toEqual(foreign);
    expect(allSpans(rx.received.traces).length).toBeGreaterThan(0);
  });

  it('answers only after both consumers acknowledged; one refusing fails the request (the client retries it)', async () => {
    const [claude] = otlpCaptures(`${AGENT}/a-baseline`).filter((c) => c.signal === 'logs');
    let release!: () => void;
    rx.holdNext(new Promise<void>((r) => (release = r)));
    let answered = false;
    const reply = send(rx, 'http', claude!).then((status) => ((answered = true), status));
    await new Promise((r) => setTimeout(r, 200));
    expect(answered).toBe(false);
    release();
    expect(await reply).toBe(200);
    expect(rx.received.logs).toHaveLength(1);
    expect(rx.received.traces).toHaveLength(1);

    clear(rx);
    rx.refuseNext(1); // the first hand-over (the logs) is refused, the traces are taken
    expect(await send(rx, 'http', claude!)).toBe(503);
    expect(rx.received.logs).toHaveLength(0);
    expect(rx.received.traces).toHaveLength(1);
    expect(await send(rx, 'grpc', claude!)).toBe(0);
  });
});

describe('OTLP receiver with Claude Code telemetry but no traces pipeline', () => {
  let rx: TestReceiver;
  beforeAll(async () => {
    rx = await startTestReceiver(EPHEMERAL, ['logs', 'metrics']);
  });
  afterAll(() => rx.stop());

  it('keeps the logs as logs', async () => {
    const [claude] = otlpCaptures(`${AGENT}/a-baseline`).filter((c) => c.signal === 'logs');
    expect(await send(rx, 'http', claude!)).toBe(200);
    expect(rx.received.logs).toEqual([decoded(claude as Capture & { signal: 'logs' })]);
    expect(rx.received.traces).toEqual([]);
  });
});
