/**
 * Gemini's native telemetry of every Gemini fixture (OTLP/HTTP JSON), in arrival order through
 * one format instance: the views must tell the facts the MANIFEST states (the routing
 * classifier's call included), and name every span that hooks or the chat file can name with
 * the same ids.
 */
import { describe, expect, it } from 'vitest';
import { AgentSpanAttr, GenAiAttr } from '../../../core/agent/genai.ts';
import {
  attr,
  changeSpanAttribute,
  foldViews,
  hookScenario,
  manifestFacts,
  messageText,
  otelCaptures,
  resourceSpansOf,
  scenarioRows,
  spanIds,
  transcriptCaptures,
  viewsOf,
} from '../../../test/helpers/agent-fixtures.ts';
import { geminiHooks } from '../../hooks/gemini.ts';
import { geminiFormat } from '../../transcripts/gemini.ts';
import { GeminiTelemetry } from './gemini.ts';

interface ModelUsage {
  input_tokens: number;
  output_tokens: number;
  cached: number;
}

const scenarios = scenarioRows('gemini');

describe.each(scenarios)('Gemini OTel of fixture %s', (_name, dir) => {
  const facts = manifestFacts(dir);
  const run = otelCaptures(dir, new GeminiTelemetry());
  const views = foldViews(run.captures);
  const [prompt, ...morePrompts] = viewsOf(views, 'prompt');
  const calls = viewsOf(views, 'model_call');

  it('maps the records and spans with a canonical counterpart, and passes the others on unchanged', () => {
    expect(run.converted).toBe(10); // 3 llm_call and 1 tool_call spans; config, user_prompt, 3 api_response, tool_call records
    expect(run.restSpans.map((s) => s.name)).toEqual(['schedule_tool_calls']);
    expect(run.restLogs).toHaveLength(31);
    expect(run.captures.every((c) => c.agent === 'gemini-cli' && c.path === 'otel' && c.sessionId === facts.sessionId)).toBe(true);
  });

  it("leaves the resource's service.version (Node's, not the CLI's), session id and command line off the captures", () => {
    for (const c of run.captures) {
      expect(c.resource).toMatchObject({ 'host.name': 'vm', 'process.runtime.version': '20.20.2' });
      expect(c.resource?.['service.version']).toBeUndefined();
      expect(c.resource?.['session.id']).toBeUndefined();
      expect(c.resource?.['process.command_args']).toBeUndefined();
    }
  });

  it('names the session and the prompt by its prompt_id, with its text', () => {
    expect(viewsOf(views, 'session').map((s) => s.ref.key)).toEqual([facts.sessionId]);
    expect(morePrompts).toEqual([]);
    expect(prompt).toMatchObject({ parent: { kind: 'session', key: facts.sessionId } });
    expect(messageText(attr(prompt, GenAiAttr.inputMessages))).toBe(facts.prompt);
  });

  it("tells the routing classifier's call as a model call of the prompt, and every model's totals as the CLI reported them", () => {
    const models = facts.cliUsage.models as Record<string, ModelUsage>;
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.parent?.key === prompt!.ref.key && c.startNs! < c.endNs!)).toBe(true);
    const [router, ...main] = [...calls].sort((a, b) => Number(a.startNs! - b.startNs!));
    expect(attr(router, 'agentotel.model_call.role')).toBe('utility_router');
    expect(main.map((c) => attr(c, 'agentotel.model_call.role'))).toEqual(['main', 'main']);
    for (const [model, usage] of Object.entries(models)) {
      const of = calls.filter((c) => attr(c, GenAiAttr.requestModel) === model);
      const sum = (key: string) => of.reduce((n, c) => n + ((attr(c, key) as number | undefined) ?? 0), 0);
      expect(sum(GenAiAttr.inputTokens)).toBe(usage.input_tokens);
      expect(sum(GenAiAttr.outputTokens) - sum(GenAiAttr.reasoningTokens)).toBe(usage.output_tokens);
      expect(sum(GenAiAttr.cacheReadTokens)).toBe(usage.cached);
    }
    expect(calls.reduce((n, c) => n + (attr(c, GenAiAttr.reasoningTokens) as number), 0)).toBe(facts.scriptedTotals.thoughts);
    expect(
      calls.every((c) => String(attr(c, GenAiAttr.responseId)).startsWith('fake-') && attr(c, GenAiAttr.providerName) === 'gcp.gemini'),
    ).toBe(true);
    expect(messageText(attr(main.at(-1), GenAiAttr.outputMessages))).toBe(facts.finalAnswer);
  });

  it('tells each tool call by its call id, with arguments, result, times and outcome', () => {
    const tools = viewsOf(views, 'tool_call');
    expect(tools.map((t) => t.ref.key)).toEqual(facts.toolCalls.map((t) => t.id));
    for (const [i, tool] of tools.entries()) {
      const call = facts.toolCalls[i]!;
      expect(tool).toMatchObject({ name: `execute_tool ${call.name}`, parent: prompt!.ref });
      expect(JSON.parse(String(attr(tool, GenAiAttr.toolCallArguments)))).toEqual(call.args);
      expect(attr(tool, AgentSpanAttr.toolOutcome)).toBe(call.result.status);
      expect(attr(tool, GenAiAttr.toolCallResult)).toContain('Output: 2');
      expect(attr(tool, 'agentotel.tool.decision')).toBe('accept');
      expect(tool.startNs).toBeLessThan(tool.endNs!);
    }
  });

  it('leaves the usage of an llm_call span to the log records (it lacks thoughts and cached tokens)', () => {
    const format = new GeminiTelemetry();
    const fromSpans = foldViews(resourceSpansOf(dir).flatMap((rs) => format.spans(rs).captures));
    const spanCalls = viewsOf(fromSpans, 'model_call');
    expect(spanCalls.map((c) => c.ref.key).sort()).toEqual(calls.map((c) => c.ref.key).sort());
    expect(spanCalls.every((c) => attr(c, GenAiAttr.inputTokens) === undefined && attr(c, GenAiAttr.outputTokens) === undefined)).toBe(
      true,
    );
  });

  it('takes "Exit Code: 1" in a tool_call span\'s result as a failure though its status says success', () => {
    const format = new GeminiTelemetry();
    const failed = changeSpanAttribute(resourceSpansOf(dir), 'tool_call', GenAiAttr.outputMessages, (v) =>
      v.replaceAll('Output: 2\\n', 'Output: 0\\nExit Code: 1\\n'),
    );
    const [tool] = viewsOf(foldViews(failed.flatMap((rs) => format.spans(rs).captures)), 'tool_call');
    expect(attr(tool, AgentSpanAttr.toolOutcome)).toBe('error');
    expect(attr(tool, AgentSpanAttr.toolExitCode)).toBe(1);
    expect(tool!.error).toBe('exit code 1');
  });
});

describe('Gemini OTel, records out of the ordinary', () => {
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'gemini-cli' } }] };
  const record = (attrs: Record<string, string | boolean | number>) => ({
    timeUnixNano: '1795304650294000000',
    attributes: Object.entries(attrs).map(([key, v]) => ({
      key,
      value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : { intValue: String(v) },
    })),
  });

  it('keeps a tool_call record that matches no function call of its request as an event of the session', () => {
    const format = new GeminiTelemetry();
    const tool = record({
      'session.id': 's',
      'event.name': 'gemini_cli.tool_call',
      function_name: 'read_file',
      function_args: '{}',
      success: false,
      prompt_id: 'p',
    });
    const other = record({ 'session.id': 's', 'event.name': 'gemini_cli.something_new' });
    const { captures, rest } = format.logs({ resource, scopeLogs: [{ logRecords: [tool, other] }] });
    expect(rest).toHaveLength(1);
    const [session] = captures[0]!.views;
    expect(session!.ref).toEqual({ kind: 'session', key: 's' });
    expect(session!.events![0]).toMatchObject({
      name: 'gemini_cli.tool_call',
      attributes: { [GenAiAttr.toolName]: 'read_file', [AgentSpanAttr.toolOutcome]: 'error' },
    });
  });

  it('owns gemini-cli resources only', () => {
    const format = new GeminiTelemetry();
    expect(format.owns(resource)).toBe(true);
    expect(format.owns({ attributes: [{ key: 'service.name', value: { stringValue: 'codex_exec' } }] })).toBe(false);
  });
});

describe.each(scenarios)('Gemini capture paths of fixture %s', (_name, dir) => {
  const hooks = hookScenario(dir, geminiHooks).captures;
  const transcript = transcriptCaptures(dir, geminiFormat);
  const otel = otelCaptures(dir, new GeminiTelemetry()).captures;

  it('hooks, chat file and OTel name the session with the same trace and span id', () => {
    const ids = spanIds(otel, 'session');
    expect(ids.size).toBe(1);
    expect(spanIds(hooks, 'session')).toEqual(ids);
    expect(spanIds(transcript, 'session')).toEqual(ids);
  });

  it('hooks, chat file and OTel name the main model calls alike; OTel adds the routing classifier call', () => {
    const ids = spanIds(transcript, 'model_call');
    expect(ids.size).toBe(2);
    expect(spanIds(hooks, 'model_call')).toEqual(ids);
    const otelIds = spanIds(otel, 'model_call');
    expect(otelIds.size).toBe(3);
    expect([...ids].every((id) => otelIds.has(id))).toBe(true);
  });

  it('chat file and OTel name the tool calls alike; only OTel names the prompt (the others carry no id for them)', () => {
    expect(spanIds(transcript, 'tool_call')).toEqual(spanIds(otel, 'tool_call'));
    expect(spanIds(otel, 'tool_call').size).toBe(1);
    expect(spanIds(otel, 'prompt').size).toBe(1);
    expect(spanIds(hooks, 'prompt').size + spanIds(transcript, 'prompt').size).toBe(0);
    expect(spanIds(hooks, 'tool_call').size).toBe(0);
  });
});
