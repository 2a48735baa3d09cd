/**
 * The transcripts receiver end to end: `runEmbedded` with the default config tails a temporary
 * Claude projects directory (pipelineEnv points the config there); a fixture transcript copied
 * into it lands in otel_traces as its session's spans. `agentotel import` of another fixture's
 * transcripts, as its own process, sends them to the same pipeline; a second import adds nothing.
 */
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sessionTraceId } from '../../core/agent/session-spans.ts';
import { queryRows } from '../../exporters/clickhouse/index.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { useEmbeddedPipeline } from '../helpers/embedded-pipeline.ts';
import { count, INGEST_TOKEN, pipelineEnv, repoRoot } from '../helpers/pipeline.ts';
import { runProcess, scrapeCounter, type ProcessRun } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

interface Facts {
  session_ids: string[];
  prompts: { items: { prompt_id: string }[] };
  tool_calls: { items: { tool_use_id: string; name: string; outcome: string }[] };
  transcript_usage_dedup_by_message_id: Record<string, { messages: number; output_tokens: number; cache_read_input_tokens: number }>;
  cost: { transcript_cost_state_total_usd: number };
}

interface Row {
  SpanId: string;
  SpanName: string;
  ParentSpanId: string;
  StatusCode: string;
  ServiceName: string;
  kind: string;
  path: string;
  toolCallId: string;
  outcome: string;
  model: string;
  outputTokens: string;
  cacheRead: string;
  agentCost: string;
}

const facts = (scenario: string) =>
  JSON.parse(readFileSync(path.join(fixturesDir, 'claude-code', scenario, 'facts.json'), 'utf8')) as Facts;
const transcripts = (scenario: string) => path.join(fixturesDir, 'claude-code', scenario, 'transcripts');
const spanCount = (f: Facts) =>
  1 + f.prompts.items.length + Object.values(f.transcript_usage_dedup_by_message_id)[0]!.messages + f.tool_calls.items.length;

const pipeline = useEmbeddedPipeline('transcripts');
const projectsDir = pipelineEnv(pipeline.dataDir).AGENTOTEL_CLAUDE_PROJECTS_DIR!;

/** One row per span (a merged span may have been written in several versions: the last one). */
const spanRows = (traceId: string) =>
  queryRows<Row>(
    pipeline.client,
    `WITH toUInt32OrZero(SpanAttributes['agentotel.span.version']) AS version
     SELECT SpanId, argMax(SpanName, version) AS SpanName, argMax(ParentSpanId, version) AS ParentSpanId,
            argMax(StatusCode, version) AS StatusCode, argMax(ServiceName, version) AS ServiceName,
            argMax(SpanAttributes['agentotel.span.kind'], version) AS kind,
            argMax(SpanAttributes['agentotel.capture.path'], version) AS path,
            argMax(SpanAttributes['gen_ai.tool.call.id'], version) AS toolCallId,
            argMax(SpanAttributes['agentotel.tool.outcome'], version) AS outcome,
            argMax(SpanAttributes['gen_ai.response.model'], version) AS model,
            argMax(SpanAttributes['gen_ai.usage.output_tokens'], version) AS outputTokens,
            argMax(SpanAttributes['gen_ai.usage.cache_read.input_tokens'], version) AS cacheRead,
            argMax(SpanAttributes['agentotel.agent.cost_usd'], version) AS agentCost
     FROM agentotel.otel_traces WHERE TraceId = {t:String} GROUP BY SpanId`,
    { t: traceId },
  );

function expectSession(rows: Row[], f: Facts): void {
  const byKind = (kind: string) => rows.filter((r) => r.kind === kind);
  const [session] = byKind('session');
  expect(session).toMatchObject({ SpanName: 'invoke_agent claude-code', ParentSpanId: '', ServiceName: 'claude-code', path: 'transcript' });
  expect(Number(session!.agentCost)).toBe(f.cost.transcript_cost_state_total_usd);
  const prompts = byKind('prompt');
  expect(prompts).toHaveLength(f.prompts.items.length);
  for (const p of prompts) expect(p.ParentSpanId).toBe(session!.SpanId);
  const promptIds = new Set(prompts.map((p) => p.SpanId));
  const tools = byKind('tool_call');
  expect(tools.map((t) => [t.toolCallId, t.SpanName, t.outcome, t.StatusCode]).sort()).toEqual(
    f.tool_calls.items.map((t) => [t.tool_use_id, `execute_tool ${t.name}`, t.outcome, t.outcome === 'error' ? 'Error' : 'Unset']).sort(),
  );
  const calls = byKind('model_call');
  for (const s of [...tools, ...calls]) expect(promptIds.has(s.ParentSpanId)).toBe(true);
  const [[model, usage]] = Object.entries(f.transcript_usage_dedup_by_message_id) as [
    [string, Facts['transcript_usage_dedup_by_message_id'][string]],
  ];
  expect(calls).toHaveLength(usage.messages);
  expect(calls.every((c) => c.SpanName === `chat ${model}` && c.model === model)).toBe(true);
  expect(calls.reduce((n, c) => n + Number(c.outputTokens), 0)).toBe(usage.output_tokens);
  expect(calls.reduce((n, c) => n + Number(c.cacheRead), 0)).toBe(usage.cache_read_input_tokens);
}

/** Waits for the scenario's session in otel_traces and checks it against its facts; returns its trace id. */
async function expectStoredSession(scenario: string, f: Facts): Promise<string> {
  const traceId = sessionTraceId('claude-code', f.session_ids[0]!);
  const rows = await waitFor(
    () => spanRows(traceId),
    (r) => r.length >= spanCount(f),
    60_000,
    `the ${scenario} session in otel_traces`,
  );
  expect(rows).toHaveLength(spanCount(f));
  expectSession(rows, f);
  return traceId;
}

function runImport(args: string[]): Promise<ProcessRun> {
  return runProcess(process.execPath, [path.join(repoRoot, 'bin/agentotel.js'), 'import', ...args], {
    cwd: repoRoot,
    env: { ...pipelineEnv(pipeline.dataDir), AGENTOTEL_INGEST_TOKEN: '' },
  });
}

describe('transcripts receiver in the embedded pipeline', () => {
  it('tails a Claude Code transcript copied into the projects directory into otel_traces', async () => {
    const f = facts('a-baseline');
    cpSync(transcripts('a-baseline'), path.join(projectsDir, '-home-dev-projects-hello-node'), { recursive: true });
    await expectStoredSession('a-baseline', f);

    const telemetry = pipeline.service.endpoints.telemetry!;
    expect(await scrapeCounter(telemetry, 'agentotel_transcript_lines_total', 'agent="claude-code"')).toBe(
      readFileSync(path.join(transcripts('a-baseline'), `${f.session_ids[0]}.jsonl`), 'utf8')
        .trim()
        .split('\n').length,
    );
    expect(await scrapeCounter(telemetry, 'agentotel_transcript_lines_skipped_total', 'reason="record type attachment"')).toBe(10);
  });

  it('imports a fixture directory with agentotel import, and a second import adds nothing', async () => {
    const f = facts('c-tool-failure');
    const endpoint = `http://${pipeline.service.endpoints['otlp.http']}`;
    const first = await runImport([transcripts('c-tool-failure'), '--endpoint', endpoint, '--token', INGEST_TOKEN]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      `imported 1 claude-code transcript file(s): 40 lines, ${spanCount(f)} spans sent to ${endpoint}/v1/traces`,
    );
    expect(first.stdout).toMatch(/\n\s+10 {2}record type attachment\n/);
    expect(first.stderr).toContain('import: 1/1 files, 40 lines'); // plain progress lines: stderr is not a terminal

    const traceId = await expectStoredSession('c-tool-failure', f);

    const written = await count(pipeline.client, 'SELECT count() AS n FROM agentotel.otel_traces WHERE TraceId = {t:String}', {
      t: traceId,
    });
    const again = await runImport([transcripts('c-tool-failure'), '--endpoint', endpoint, '--token', INGEST_TOKEN]);
    expect(again.exitCode, again.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 12_000)); // longer than the dedupe merge window
    expect(await count(pipeline.client, 'SELECT count() AS n FROM agentotel.otel_traces WHERE TraceId = {t:String}', { t: traceId })).toBe(
      written,
    );
  });

  it('refuses an import without the ingest token, saying so', async () => {
    const r = await runImport([
      transcripts('a-baseline'),
      '--endpoint',
      `http://${pipeline.service.endpoints['otlp.http']}`,
      '--token',
      'wrong',
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('refused the token (401)');
  });
});
