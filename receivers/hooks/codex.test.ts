/**
 * Codex hook payloads of every Codex fixture, in the order the CLI ran the hooks: the views
 * must tell the facts the scenario's MANIFEST states that hooks can know.
 */
import { describe, expect, it } from 'vitest';
import { AgentSpanAttr, GenAiAttr } from '../../core/agent/genai.ts';
import { AgentAttr } from '../../core/agent/session-spans.ts';
import { attr, hookScenario, messageText, scenarioRows, viewsOf } from '../../test/helpers/agent-fixtures.ts';
import { codexHooks } from './codex.ts';
import { HookPayloadError } from './hook-format.ts';

describe.each(scenarioRows('codex'))('Codex hooks of fixture %s', (_name, dir) => {
  const { facts, hooks, captures, views } = hookScenario(dir, codexHooks);
  const at = (event: string) => hooks.find((h) => h.event === event)!.receivedNs;

  it('names the session by its id, from SessionStart to SessionEnd', () => {
    expect(captures.every((c) => c.agent === 'codex' && c.path === 'hooks' && c.sessionId === facts.sessionId)).toBe(true);
    const [session, ...more] = viewsOf(views, 'session');
    expect(more).toEqual([]);
    expect(session).toMatchObject({
      ref: { key: facts.sessionId },
      name: 'invoke_agent codex',
      startNs: at('SessionStart'),
      endNs: at('SessionEnd'),
    });
    expect(attr(session, GenAiAttr.requestModel)).toBe('gpt-5.5');
  });

  it('names the prompt by its turn id, with the prompt text and the final answer', () => {
    const turnId = hooks.find((h) => h.event === 'UserPromptSubmit')!.payload.turn_id;
    const [prompt, ...more] = viewsOf(views, 'prompt');
    expect(more).toEqual([]);
    expect(prompt).toMatchObject({
      ref: { key: turnId },
      parent: { kind: 'session', key: facts.sessionId },
      startNs: at('UserPromptSubmit'),
      endNs: at('Stop'),
    });
    expect(messageText(attr(prompt, GenAiAttr.inputMessages))).toBe(facts.prompt);
    expect(messageText(attr(prompt, GenAiAttr.outputMessages))).toBe(facts.finalAnswer);
  });

  it('names each tool call by its call id: Bash with the command, and claims no outcome Codex does not tell', () => {
    const tools = viewsOf(views, 'tool_call');
    expect(tools.map((t) => t.ref.key)).toEqual(facts.toolCalls.map((t) => t.id));
    for (const [i, tool] of tools.entries()) {
      expect(tool).toMatchObject({
        name: 'execute_tool Bash',
        parent: { kind: 'prompt' },
        startNs: at('PreToolUse'),
        endNs: at('PostToolUse'),
      });
      expect(JSON.parse(String(attr(tool, GenAiAttr.toolCallArguments)))).toEqual({ command: facts.toolCalls[i]!.args.cmd });
      expect(attr(tool, GenAiAttr.toolCallResult)).toBe('2\n');
      expect(attr(tool, AgentSpanAttr.toolOutcome)).toBeUndefined();
      expect(tool.error).toBeUndefined();
    }
  });

  it('has no model calls: Codex fires no hook for them', () => {
    expect(viewsOf(views, 'model_call')).toEqual([]);
  });
});

describe('Codex hooks, payloads out of the ordinary', () => {
  const base = { session_id: 'sess-1', cwd: '/tmp' };

  it('keeps an unknown event as an event of the session, marked as unknown', () => {
    const capture = codexHooks.toCapture({ ...base, hook_event_name: 'PreCompact', trigger: 'auto' }, 5n);
    expect(capture.views).toHaveLength(1);
    expect(capture.views[0]).toMatchObject({ ref: { kind: 'session', key: 'sess-1' }, endNs: 5n });
    expect(capture.views[0]!.events).toEqual([
      {
        name: 'PreCompact',
        timeNs: 5n,
        attributes: expect.objectContaining({
          [AgentAttr.unknownEvent]: 'PreCompact',
          'agentotel.hook.fields': 'cwd,hook_event_name,session_id,trigger',
        }),
      },
    ]);
  });

  it('keeps a prompt without a turn id, and a tool event without a call id, on the session', () => {
    const prompt = codexHooks.toCapture({ ...base, hook_event_name: 'UserPromptSubmit', prompt: 'hi' }, 1n);
    expect(prompt.views.map((v) => v.ref.kind)).toEqual(['session']);
    expect(messageText(prompt.views[0]!.events![0]!.attributes![GenAiAttr.inputMessages])).toBe('hi');
    const tool = codexHooks.toCapture({ ...base, hook_event_name: 'PreToolUse', tool_name: 'Bash', turn_id: 't' }, 1n);
    expect(tool.views[0]!.events![0]!.attributes!['agentotel.hook.missing_field']).toBe('tool_use_id');
  });

  it('refuses a payload without a session id', () => {
    expect(() => codexHooks.toCapture({ hook_event_name: 'Stop' }, 1n)).toThrow(HookPayloadError);
    expect(() => codexHooks.toCapture({ session_id: '', hook_event_name: 'Stop' }, 1n)).toThrow(HookPayloadError);
  });
});
