/**
 * Claude Code's native telemetry end to end in embedded mode: every captured OTLP request of
 * every Claude Code fixture is sent, over the protocol it was captured with (HTTP/JSON,
 * HTTP/protobuf, gRPC), to `runEmbedded` with the default config. Each session lands in
 * otel_traces as one trace, id sessionTraceId('claude-code', session id), with its prompts,
 * model calls and tool calls as the facts say, redacted and enriched; the set-up events stay in
 * otel_logs; the metrics land in otel_metrics_sum with their attributes.
 */
import * as grpc from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { sessionTraceId } from '../../core/agent/session-spans.ts';
import { queryRows } from '../../exporters/clickhouse/index.ts';
import { exportServiceDefinition } from '../../receivers/otlp/grpc-server.ts';
import { factsOf, scenariosWithFacts } from '../../receivers/otlp/agents/fixture-requests.ts';
import { otlpCaptures } from '../helpers/fixtures.ts';
import { useEmbeddedPipeline } from '../helpers/embedded-pipeline.ts';
import { count, INGEST_TOKEN } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

interface Facts {
  session_ids: string[];
  prompts: { items: { prompt_id: string }[] };
  tool_calls: { items: { tool_use_id: string; name: string; outcome: string }[] };
  scripted_model_calls: { successful: number; per_model: Record<string, { output_tokens: number; cache_read_input_tokens: number }> };
}

const AGENT = 'claude-code';
const TEAM = 'payments';
const scenarios = scenariosWithFacts(AGENT);
const pipeline = useEmbeddedPipeline('claude-otel');

type Capture = ReturnType<typeof otlpCaptures>[number];

/** OTEL_RESOURCE_ATTRIBUTES=team=payments as Claude Code sends it: on the resource (JSON captures only). */
function withTeam(c: Capture): Buffer {
  if (c.content_type !== 'application/json') return c.body;
  const request = JSON.parse(c.body.toString('utf8')) as Record<string, { resource?: { attributes?: unknown[] } }[]>;
  for (const resource of Object.values(request).flat()) resource.resource?.attributes?.push({ key: 'team', value: { stringValue: TEAM } });
  return Buffer.from(JSON.stringify(request));
}

async function send(c: Capture): Promise<void> {
  if (c.protocol === 'grpc') {
    const definition = exportServiceDefinition(c.signal);
    const Client = grpc.makeGenericClientConstructor(definition, c.signal);
    const rpc = new Client(pipeline.service.endpoints['otlp.grpc']!, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${INGEST_TOKEN}`);
    await new Promise<void>((resolve, reject) =>
      rpc.makeUnaryRequest(
        definition.Export!.path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        c.body,
        metadata,
        (err: grpc.ServiceError | null) => {
          rpc.close();
          if (err) reject(err);
          else resolve();
        },
      ),
    );
    return;
  }
  const res = await fetch(`http://${pipeline.service.endpoints['otlp.http']}/v1/${c.signal}`, {
    method: 'POST',
    headers: { 'content-type': c.content_type, authorization: `Bearer ${INGEST_TOKEN}` },
    body: new Uint8Array(withTeam(c)),
  });
  expect(res.status, `${c.file}: ${await res.text()}`).toBe(200);
}

interface SpanRow {
  SpanId: string;
  SpanName: string;
  ParentSpanId: string;
  ServiceName: string;
  StatusCode: string;
  kind: string;
  attrs: Record<string, string>;
  resource: Record<string, string>;
}

/** One row per span of a trace (a span written again by a later merge counts once). */
async function spansOf(traceId: string): Promise<SpanRow[]> {
  return queryRows<SpanRow>(
    pipeline.client,
    `SELECT SpanId, any(SpanName) AS SpanName, any(ParentSpanId) AS ParentSpanId, any(ServiceName) AS ServiceName,
            any(StatusCode) AS StatusCode, any(SpanAttributes['agentotel.span.kind']) AS kind,
            any(SpanAttributes) AS attrs, any(ResourceAttributes) AS resource
     FROM agentotel.otel_traces WHERE TraceId = {t:String} GROUP BY SpanId`,
    { t: traceId },
  );
}

beforeAll(async () => {
  // In the order Claude Code sent them, scenario after scenario.
  for (const scenario of scenarios) for (const c of otlpCaptures(`${AGENT}/${scenario}`)) await send(c);
});

describe('Claude Code native telemetry in embedded mode', () => {
  for (const scenario of scenarios) {
    const facts = factsOf<Facts>(AGENT, scenario);
    const sessionId = facts.session_ids[0]!;

    it(`${scenario}: the session is one trace with its prompts, model calls and tool calls`, async () => {
      const traceId = sessionTraceId(AGENT, sessionId);
      const expected = 1 + facts.prompts.items.length + facts.scripted_model_calls.successful + facts.tool_calls.items.length;
      const spans = await waitFor(
        () => spansOf(traceId),
        (rows) => rows.length >= expected,
        60_000,
        `${expected} spans of ${scenario}`,
      );
      const ofKind = (kind: string) => spans.filter((s) => s.kind === kind);
      expect(spans).toHaveLength(expected);
      expect(spans.every((s) => s.ServiceName === 'claude-code')).toBe(true);

      const [session] = ofKind('session');
      expect(session).toMatchObject({ SpanName: 'invoke_agent claude-code', ParentSpanId: '' });
      expect(ofKind('prompt').every((p) => p.ParentSpanId === session!.SpanId)).toBe(true);

      const promptIds = new Set(ofKind('prompt').map((p) => p.SpanId));
      const calls = ofKind('model_call');
      expect(calls).toHaveLength(facts.scripted_model_calls.successful);
      for (const [model, usage] of Object.entries(facts.scripted_model_calls.per_model)) {
        const mine = calls.filter((c) => c.SpanName === `chat ${model}`);
        const sum = (key: string) => mine.reduce((n, c) => n + Number(c.attrs[key] ?? 0), 0);
        expect(sum('gen_ai.usage.output_tokens')).toBe(usage.output_tokens);
        expect(sum('gen_ai.usage.cache_read.input_tokens')).toBe(usage.cache_read_input_tokens);
      }
      expect(calls.every((c) => promptIds.has(c.ParentSpanId) || c.ParentSpanId === '')).toBe(true);
      expect(
        calls.every((c) => c.attrs['agentotel.agent.cost_usd'] !== undefined && c.attrs['agentotel.pricing.version'] !== undefined),
      ).toBe(true);

      const tools = ofKind('tool_call');
      expect(tools.map((t) => t.SpanName).sort()).toEqual(facts.tool_calls.items.map((t) => `execute_tool ${t.name}`).sort());
      expect(tools.filter((t) => t.StatusCode === 'Error')).toHaveLength(
        facts.tool_calls.items.filter((t) => t.outcome === 'error').length,
      );

      // Redaction (tier 2) dropped the prompt text; enrichment attributed the spans.
      expect(ofKind('prompt').every((p) => p.attrs['gen_ai.input.messages'] === undefined)).toBe(true);
      expect(spans.every((s) => s.attrs['agentotel.user']?.startsWith('anon_'))).toBe(true);
      const team = otlpCaptures(`${AGENT}/${scenario}`).every((c) => c.protocol === 'http/json') ? TEAM : 'unassigned';
      expect(spans.every((s) => s.attrs['agentotel.team'] === team)).toBe(true);
      expect(session!.resource['host.arch']).toBe('amd64');
    });
  }

  it('e-multi-turn: the start-up of --continue under a transient session id makes no session', async () => {
    expect(
      await count(pipeline.client, `SELECT count() AS n FROM agentotel.otel_traces WHERE TraceId = {t:String}`, {
        t: sessionTraceId(AGENT, 'fb038e02-bbdd-47fe-a0c8-c71e0c4deeb0'),
      }),
    ).toBe(0);
    expect(
      await count(pipeline.client, `SELECT uniqExact(TraceId) AS n FROM agentotel.otel_traces WHERE ServiceName = 'claude-code'`),
    ).toBe(scenarios.length);
  });

  it('only the set-up events stay in otel_logs', async () => {
    const bodies = await queryRows<{ Body: string; n: string }>(
      pipeline.client,
      `SELECT Body, count() AS n FROM agentotel.otel_logs WHERE ServiceName = 'claude-code' GROUP BY Body ORDER BY Body`,
    );
    expect(new Set(bodies.map((b) => b.Body))).toEqual(
      new Set([
        'claude_code.hook_execution_complete',
        'claude_code.hook_execution_start',
        'claude_code.hook_registered',
        'claude_code.managed_settings_resolved',
        'claude_code.plugin_loaded',
      ]),
    );
    // The only hook executions kept as logs are the transient session's two.
    expect(Number(bodies.find((b) => b.Body === 'claude_code.hook_execution_start')!.n)).toBe(1);
  });

  it('the metrics land in otel_metrics_sum with session.id, model and type', async () => {
    const sessionId = factsOf<Facts>(AGENT, 'a-baseline').session_ids[0]!;
    const rows = await waitFor(
      () =>
        queryRows<{ type: string; model: string; total: number }>(
          pipeline.client,
          `SELECT Attributes['type'] AS type, Attributes['model'] AS model, sum(Value) AS total FROM agentotel.otel_metrics_sum
           WHERE MetricName = 'claude_code.token.usage' AND Attributes['session.id'] = {s:String} GROUP BY type, model ORDER BY type`,
          { s: sessionId },
        ),
      (r) => r.length === 4,
      30_000,
      'token usage points of a-baseline',
    );
    const usage = factsOf<{ runs: { cli: { usage: Record<string, number> } }[] }>(AGENT, 'a-baseline').runs[0]!.cli.usage;
    expect(rows.map((r) => [r.type, r.model, Number(r.total)])).toEqual([
      ['cacheCreation', 'claude-opus-5-5', usage.cache_creation_input_tokens],
      ['cacheRead', 'claude-opus-5-5', usage.cache_read_input_tokens],
      ['input', 'claude-opus-5-5', usage.input_tokens],
      ['output', 'claude-opus-5-5', usage.output_tokens],
    ]);
    expect(
      await count(
        pipeline.client,
        `SELECT count() AS n FROM agentotel.otel_metrics_sum WHERE MetricName = 'claude_code.cost.usage' AND Attributes['session.id'] = {s:String} AND ResourceAttributes['team'] = {team:String}`,
        { s: sessionId, team: TEAM },
      ),
    ).toBe(1);
  });
});
