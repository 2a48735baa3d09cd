/**
 * Gemini hook payloads of every Gemini fixture, in the order the CLI ran the hooks: the views
 * must tell the facts the scenario's MANIFEST states that hooks can know. Gemini's hooks carry
 * no prompt id and no tool call id: prompts and tool calls are events of the session.
 */
import { describe, expect, it } from 'vitest';
import { geminiModelCallKey } from '../../core/agent/gemini.ts';
import { AgentSpanAttr, GenAiAttr } from '../../core/agent/genai.ts';
import { AgentAttr, toNs } from '../../core/agent/session-spans.ts';
import { attr, hookScenario, messageText, scenarioRows, viewsOf } from '../../test/helpers/agent-fixtures.ts';
import { geminiHooks } from './gemini.ts';
import { HookPayloadError } from './hook-format.ts';

interface ModelUsage {
  input_tokens: number;
  output_tokens: number;
}

describe.each(scenarioRows('gemini'))('Gemini hooks of fixture %s', (_name, dir) => {
  const { facts, hooks, captures, views } = hookScenario(dir, geminiHooks);
  const [session] = viewsOf(views, 'session');
  const timestamp = (event: string) => toNs(hooks.find((h) => h.event === event)!.payload.timestamp as string);
  const events = (name: string) => (session?.events ?? []).filter((e) => e.name === name);

  it('names the session by its id, from SessionStart to SessionEnd (the payload timestamps)', () => {
    expect(captures.every((c) => c.agent === 'gemini-cli' && c.path === 'hooks' && c.sessionId === facts.sessionId)).toBe(true);
    expect(viewsOf(views, 'session')).toHaveLength(1);
    expect(session).toMatchObject({
      ref: { key: facts.sessionId },
      name: 'invoke_agent gemini-cli',
      startNs: timestamp('SessionStart'),
      endNs: timestamp('SessionEnd'),
    });
  });

  it('keeps the prompt as an event of the session: no hook names it', () => {
    expect(viewsOf(views, 'prompt')).toEqual([]);
    expect(events('BeforeAgent').map((e) => messageText(e.attributes?.[GenAiAttr.inputMessages]))).toEqual([facts.prompt]);
  });

  it('keeps each tool call as events of the session, with the tool, its arguments and outcome', () => {
    expect(viewsOf(views, 'tool_call')).toEqual([]);
    const after = events('AfterTool');
    expect(after).toHaveLength(facts.toolCalls.length);
    for (const [i, e] of after.entries()) {
      const call = facts.toolCalls[i]!;
      expect(e.attributes?.[GenAiAttr.toolName]).toBe(call.name);
      expect(JSON.parse(String(e.attributes?.[GenAiAttr.toolCallArguments]))).toEqual(call.args);
      expect(e.attributes?.[AgentSpanAttr.toolOutcome]).toBe(call.result.status);
    }
  });

  it('names each main model call by its model and usage, from the last chunk of its response', () => {
    const models = facts.cliUsage.models as Record<string, ModelUsage>;
    const calls = viewsOf(views, 'model_call');
    // The routing classifier's call fires no model hooks: only the main model's calls are seen.
    const main = Object.keys(models).filter((m) => calls.some((c) => attr(c, GenAiAttr.requestModel) === m));
    expect(main).toHaveLength(1);
    const model = main[0]!;
    expect(calls.map((c) => c.ref.key)).toEqual(
      calls.map((c) =>
        geminiModelCallKey(
          model,
          attr(c, GenAiAttr.inputTokens) as number,
          (attr(c, GenAiAttr.outputTokens) as number) - (attr(c, GenAiAttr.reasoningTokens) as number),
        ),
      ),
    );
    const sum = (key: string) => calls.reduce((n, c) => n + (attr(c, key) as number), 0);
    expect(sum(GenAiAttr.inputTokens)).toBe(models[model]!.input_tokens);
    expect(sum(GenAiAttr.outputTokens) - sum(GenAiAttr.reasoningTokens)).toBe(models[model]!.output_tokens);
    expect(sum(GenAiAttr.reasoningTokens)).toBe(facts.scriptedTotals.thoughts);
    expect(calls.every((c) => c.parent === undefined && c.name === `chat ${model}`)).toBe(true);
  });
});

describe('Gemini hooks, payloads out of the ordinary', () => {
  const base = { session_id: 's', timestamp: '2026-11-21T23:44:10.000Z' };

  it('takes a non-zero exit code in a tool result as the outcome, whatever the tool reported', () => {
    const tool_response = { llmContent: 'Output: nope\nExit Code: 1\nProcess Group PGID: 7', returnDisplay: 'nope' };
    const capture = geminiHooks.toCapture(
      { ...base, hook_event_name: 'AfterTool', tool_name: 'run_shell_command', tool_input: { command: 'false' }, tool_response },
      1n,
    );
    expect(capture.views[0]!.events![0]!.attributes).toMatchObject({
      [AgentSpanAttr.toolOutcome]: 'error',
      [AgentSpanAttr.toolExitCode]: 1,
    });
  });

  it('sends nothing for a streamed chunk before the last, and keeps an unknown event on the session', () => {
    const chunk = {
      ...base,
      hook_event_name: 'AfterModel',
      llm_request: { model: 'm' },
      llm_response: { candidates: [{ content: { parts: ['x'] } }] },
    };
    expect(geminiHooks.toCapture(chunk, 1n).views).toEqual([]);
    const unknown = geminiHooks.toCapture({ ...base, hook_event_name: 'AfterSomething' }, 1n);
    expect(unknown.views[0]!.events![0]).toMatchObject({
      name: 'AfterSomething',
      timeNs: toNs(base.timestamp),
      attributes: { [AgentAttr.unknownEvent]: 'AfterSomething' },
    });
  });

  it('uses the receive time when the payload has no timestamp, and refuses one without a session id', () => {
    expect(geminiHooks.toCapture({ session_id: 's', hook_event_name: 'SessionStart' }, 42n).views[0]!.startNs).toBe(42n);
    expect(() => geminiHooks.toCapture({ hook_event_name: 'SessionStart' }, 1n)).toThrow(HookPayloadError);
  });
});
