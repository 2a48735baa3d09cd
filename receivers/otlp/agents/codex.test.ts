/**
 * Codex's native telemetry of every Codex fixture (OTLP/HTTP JSON and protobuf), in arrival
 * order through one format instance: the views must tell the facts the MANIFEST states that
 * Codex's OTel carries, pass its ~690 internal spans on, and name the session, prompt, tool
 * calls and model calls with the same span ids as the hooks and the rollout transcript.
 */
import { describe, expect, it } from 'vitest';
import { AgentSpanAttr, GenAiAttr } from '../../../core/agent/genai.ts';
import type { SessionCapture } from '../../../core/agent/session-spans.ts';
import {
  attr,
  changeLogAttribute,
  codexUsageOf,
  foldViews,
  hookInvocations,
  hookScenario,
  manifestFacts,
  messageText,
  otelCaptures,
  resourceLogsOf,
  scenarioRows,
  spanIds,
  transcriptCaptures,
  viewsOf,
} from '../../../test/helpers/agent-fixtures.ts';
import { codexHooks } from '../../hooks/codex.ts';
import { codexFormat } from '../../transcripts/codex.ts';
import { CodexTelemetry } from './codex.ts';

const scenarios = scenarioRows('codex');

describe.each(scenarios)('Codex OTel of fixture %s', (_name, dir) => {
  const facts = manifestFacts(dir);
  const turnId = hookInvocations(dir).find((h) => h.event === 'UserPromptSubmit')!.payload.turn_id;
  const run = otelCaptures(dir, new CodexTelemetry());
  const views = foldViews(run.captures);

  it('maps the records and spans with a canonical counterpart, and passes the others on unchanged', () => {
    expect(run.converted).toBe(11); // session_loop, run_turn, exec_command, 2× handle_responses; 6 log events
    expect(run.restSpans.length).toBeGreaterThan(600);
    expect(new Set(run.restSpans.map((s) => s.name))).toContain('fs.get_metadata');
    expect(run.restSpans.map((s) => s.name)).not.toContain('run_turn');
    expect(run.captures.every((c) => c.agent === 'codex' && c.path === 'otel' && c.sessionId === facts.sessionId)).toBe(true);
    expect(run.captures.every((c) => c.resource?.['service.version'] === '0.169.0' && c.resource['service.name'] === undefined)).toBe(true);
  });

  it('names the session and the prompt (by the turn id its spans tell), with the prompt text', () => {
    const [session, ...moreSessions] = viewsOf(views, 'session');
    expect(moreSessions).toEqual([]);
    expect(session).toMatchObject({ ref: { key: facts.sessionId }, name: 'invoke_agent codex' });
    expect(attr(session, GenAiAttr.requestModel)).toBe('gpt-5.5');
    const [prompt, ...more] = viewsOf(views, 'prompt');
    expect(more).toEqual([]);
    expect(prompt).toMatchObject({ ref: { key: turnId }, parent: session!.ref });
    expect(messageText(attr(prompt, GenAiAttr.inputMessages))).toBe(facts.prompt);
    expect(prompt!.startNs).toBeLessThan(prompt!.endNs!);
  });

  it('tells each tool call by its call id, with the outcome its output states', () => {
    const tools = viewsOf(views, 'tool_call');
    expect(tools.map((t) => t.ref.key)).toEqual(facts.toolCalls.map((t) => t.id));
    for (const [i, tool] of tools.entries()) {
      const call = facts.toolCalls[i]!;
      expect(tool).toMatchObject({ name: `execute_tool ${call.name}`, parent: { kind: 'prompt', key: turnId } });
      expect(JSON.parse(String(attr(tool, GenAiAttr.toolCallArguments)))).toEqual(call.args);
      expect(attr(tool, AgentSpanAttr.toolExitCode)).toBe(call.result.exitCode);
      expect(attr(tool, AgentSpanAttr.toolOutcome)).toBe('success');
      expect(tool.startNs).toBeLessThan(tool.endNs!);
    }
  });

  it('tells each model call once by its usage, from the log records and the spans alike, with the CLI totals', () => {
    const calls = viewsOf(views, 'model_call');
    expect(calls).toHaveLength(2);
    expect(facts.cliUsage).toMatchObject(codexUsageOf(calls));
    expect(calls.every((c) => c.name === 'chat gpt-5.5' && c.parent?.key === turnId)).toBe(true);
    const fromSpans = foldViews(run.captures.filter((c) => c.views.some((v) => v.ref.kind === 'model_call' && v.parent)));
    expect(viewsOf(fromSpans, 'model_call').map((c) => c.ref.key)).toEqual(calls.map((c) => c.ref.key));
  });

  it('keeps the prompt as an event of the session when no span told its turn (logs alone)', () => {
    const format = new CodexTelemetry();
    const captures: SessionCapture[] = resourceLogsOf(dir).flatMap((rl) => format.logs(rl).captures);
    const alone = foldViews(captures);
    expect(viewsOf(alone, 'prompt')).toEqual([]);
    const [session] = viewsOf(alone, 'session');
    expect(session!.events!.map((e) => [e.name, messageText(e.attributes?.[GenAiAttr.inputMessages])])).toEqual([
      ['codex.user_prompt', facts.prompt],
    ]);
    expect(viewsOf(alone, 'tool_call').map((t) => [t.ref.key, t.parent])).toEqual(facts.toolCalls.map((t) => [t.id, undefined]));
  });

  it('takes "Process exited with code 1" as a failure though codex.tool_result says success', () => {
    const format = new CodexTelemetry();
    const records = changeLogAttribute(resourceLogsOf(dir), 'output', (v) => v.replace('exited with code 0', 'exited with code 1'));
    const [tool] = viewsOf(foldViews(records.flatMap((rl) => format.logs(rl).captures)), 'tool_call');
    expect(attr(tool, 'agentotel.tool.decision')).toBe('approved');
    expect(attr(tool, AgentSpanAttr.toolOutcome)).toBe('error');
    expect(attr(tool, AgentSpanAttr.toolExitCode)).toBe(1);
    expect(tool!.error).toBe('exit code 1');
  });

  it('owns Codex resources only', () => {
    const format = new CodexTelemetry();
    const service = (name: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: name } }] });
    expect(['codex_exec', 'codex_cli_rs', 'codex-tui', 'codex'].map((n) => format.owns(service(n)))).toEqual([true, true, true, true]);
    expect(['codexa', 'claude-code', 'gemini-cli'].map((n) => format.owns(service(n)))).toEqual([false, false, false]);
    expect(format.owns(undefined)).toBe(false);
  });
});

describe.each(scenarios)('Codex capture paths of fixture %s', (_name, dir) => {
  const hooks = hookScenario(dir, codexHooks).captures;
  const transcript = transcriptCaptures(dir, codexFormat);
  const otel = otelCaptures(dir, new CodexTelemetry()).captures;

  it.each(['session', 'prompt', 'tool_call'] as const)(
    'hooks, transcript and OTel name every %s span with the same trace and span id',
    (kind) => {
      const ids = spanIds(hooks, kind);
      expect(ids.size).toBeGreaterThan(0);
      expect(spanIds(transcript, kind)).toEqual(ids);
      expect(spanIds(otel, kind)).toEqual(ids);
    },
  );

  it('transcript and OTel name the model calls alike (Codex fires no hook for them)', () => {
    const ids = spanIds(transcript, 'model_call');
    expect(ids.size).toBe(2);
    expect(spanIds(otel, 'model_call')).toEqual(ids);
    expect(spanIds(hooks, 'model_call').size).toBe(0);
  });
});
