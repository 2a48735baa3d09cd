/**
 * The hooks receiver end to end: every Claude Code fixture session's hooks, posted as Claude
 * Code's http hooks post them, to `runEmbedded` with the default config; the sessions' spans
 * land in otel_traces with the deterministic ids, names and parents, processed by every stage.
 */
import { describe, expect, it } from 'vitest';
import { agentSpanId, sessionTraceId } from '../../core/agent/session-spans.ts';
import { queryRows } from '../../exporters/clickhouse/index.ts';
import { claudeCodeHookScenarios } from '../../receivers/hooks/test-harness.ts';
import { useEmbeddedPipeline } from '../helpers/embedded-pipeline.ts';
import { INGEST_TOKEN } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

interface Row {
  TraceId: string;
  SpanId: string;
  SpanName: string;
  ParentSpanId: string;
  StatusCode: string;
  toolCallId: string;
  input: string;
  arguments: string;
  tier: string;
}

const scenarios = claudeCodeHookScenarios();
const pipeline = useEmbeddedPipeline('hooks');

/** One row per span (a merged span may have been written in several versions: the last one). */
const spanRows = (traceIds: string[]) =>
  queryRows<Row>(
    pipeline.client,
    `WITH toUInt32OrZero(SpanAttributes['agentotel.span.version']) AS version
     SELECT TraceId, SpanId, argMax(SpanName, version) AS SpanName, argMax(ParentSpanId, version) AS ParentSpanId,
            max(StatusCode = 'Error') ? 'Error' : 'Unset' AS StatusCode,
            argMax(SpanAttributes['gen_ai.tool.call.id'], version) AS toolCallId,
            argMax(SpanAttributes['gen_ai.input.messages'], version) AS input,
            argMax(SpanAttributes['gen_ai.tool.call.arguments'], version) AS arguments,
            argMax(SpanAttributes['agentotel.redaction.tier'], version) AS tier
     FROM agentotel.otel_traces WHERE TraceId IN {t:Array(String)} GROUP BY TraceId, SpanId`,
    { t: traceIds },
  );

describe('hooks receiver in the embedded pipeline', () => {
  it('stores the sessions of every Claude Code fixture posted as http hooks', async () => {
    const url = `http://${pipeline.service.endpoints['hooks.http']}/v1/hooks`;
    for (const { hooks } of scenarios) {
      for (const hook of hooks) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_TOKEN}` },
          body: hook.body,
        });
        expect([res.status, await res.text()]).toEqual([200, '{}']);
      }
    }

    // Per session: the root, its prompts, its tool calls.
    const expected = scenarios.map(({ facts }) => 1 + facts.prompts.items.length + facts.tool_calls.items.length);
    const traceIds = scenarios.map(({ facts }) => sessionTraceId('claude-code', facts.session_ids[0]!));
    const rows = await waitFor(
      () => spanRows(traceIds),
      (r) => r.length >= expected.reduce((a, b) => a + b, 0),
      60_000,
      'the fixture sessions in otel_traces',
    );

    for (const [i, { facts }] of scenarios.entries()) {
      const traceId = traceIds[i]!;
      const spans = rows.filter((r) => r.TraceId === traceId);
      expect(spans).toHaveLength(expected[i]!);
      const sessionSpanId = agentSpanId(traceId, { kind: 'session', key: facts.session_ids[0]! });
      expect(spans.find((s) => s.SpanId === sessionSpanId)).toMatchObject({ SpanName: 'invoke_agent claude-code', ParentSpanId: '' });

      const promptSpanIds = new Set<string>();
      for (const p of facts.prompts.items) {
        const spanId = agentSpanId(traceId, { kind: 'prompt', key: p.prompt_id });
        promptSpanIds.add(spanId);
        // Tier 2 (the default config) keeps tool details and drops content such as the prompt text.
        expect(spans.find((s) => s.SpanId === spanId)).toMatchObject({
          SpanName: 'prompt',
          ParentSpanId: sessionSpanId,
          input: '',
          tier: '2',
        });
      }
      for (const t of facts.tool_calls.items) {
        const span = spans.find((s) => s.SpanId === agentSpanId(traceId, { kind: 'tool_call', key: t.tool_use_id }));
        expect(span).toMatchObject({
          SpanName: `execute_tool ${t.name}`,
          toolCallId: t.tool_use_id,
          StatusCode: t.outcome === 'error' ? 'Error' : 'Unset',
        });
        expect(promptSpanIds.has(span!.ParentSpanId)).toBe(true);
        expect(span!.arguments).toMatch(/^\{/);
      }
    }
  });

  it('counts what it accepted and published', async () => {
    const total = scenarios.reduce((n, s) => n + s.hooks.length, 0);
    const metrics = await (await fetch(`http://${pipeline.service.endpoints.telemetry}/metrics`)).text();
    expect(metrics).toContain(`agentotel_hooks_accepted_total{agent="claude-code",receiver="hooks"} ${total}`);
    expect(metrics).toContain(`agentotel_hooks_published_total{receiver="hooks"} ${total}`);
  });

  it('refuses hooks without the ingest token', async () => {
    const res = await fetch(`http://${pipeline.service.endpoints['hooks.http']}/v1/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: scenarios[0]!.hooks[0]!.body,
    });
    expect(res.status).toBe(401);
  });
});
