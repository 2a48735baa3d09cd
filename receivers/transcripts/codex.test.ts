/**
 * The Codex rollout parser against the rollout of every Codex fixture: the views must tell
 * exactly the facts the scenario's MANIFEST states (session, prompt, tool calls, token totals,
 * final answer), and a failed command must come out as an error whatever else says success.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentSpanAttr, GenAiAttr } from '../../core/agent/genai.ts';
import {
  attr,
  codexUsageOf,
  messageText,
  parseTranscript,
  scenarioRows,
  transcriptScenario,
  viewsOf,
} from '../../test/helpers/agent-fixtures.ts';
import { codexFormat } from './codex.ts';

describe.each(scenarioRows('codex'))('Codex rollout of fixture %s', (_name, dir) => {
  const { facts, file, others, lines } = transcriptScenario(dir);
  const { parser, captures, views } = parseTranscript(codexFormat, lines, file);
  const [prompt, ...morePrompts] = viewsOf(views, 'prompt');

  it('names the session by its thread id, with the CLI version and the project', () => {
    expect(others).toEqual([]);
    expect(captures.every((c) => c.agent === 'codex' && c.path === 'transcript' && c.sessionId === facts.sessionId)).toBe(true);
    const [session, ...more] = viewsOf(views, 'session');
    expect(more).toEqual([]);
    expect(session).toMatchObject({ ref: { key: facts.sessionId }, name: 'invoke_agent codex' });
    expect(session!.startNs).toBeLessThanOrEqual(prompt!.startNs!);
    expect(session!.endNs).toBe(prompt!.endNs);
    expect(readFileSync(path.join(dir, 'cli-output', 'version.txt'), 'utf8').trim()).toBe(
      `codex-cli ${attr(session, 'gen_ai.agent.version')}`,
    );
    expect(attr(session, 'agentotel.session.cwd')).toBe('/home/dev2/projects/todo-api');
  });

  it('names the prompt by its turn id, with its text, model and final answer', () => {
    expect(morePrompts).toEqual([]);
    expect(prompt).toMatchObject({ name: 'prompt', parent: { kind: 'session', key: facts.sessionId } });
    expect(messageText(attr(prompt, GenAiAttr.inputMessages))).toBe(facts.prompt);
    expect(messageText(attr(prompt, GenAiAttr.outputMessages))).toBe(facts.finalAnswer);
    expect(attr(prompt, GenAiAttr.requestModel)).toBe('gpt-5.5');
    expect(prompt!.startNs).toBeLessThan(prompt!.endNs!);
  });

  it('tells each tool call by its call id: name, arguments, result and the exit code as outcome', () => {
    const tools = viewsOf(views, 'tool_call');
    expect(tools.map((t) => t.ref.key)).toEqual(facts.toolCalls.map((t) => t.id));
    for (const [i, tool] of tools.entries()) {
      const call = facts.toolCalls[i]!;
      expect(tool).toMatchObject({ name: `execute_tool ${call.name}`, parent: prompt!.ref });
      expect(attr(tool, GenAiAttr.toolName)).toBe(call.name);
      expect(JSON.parse(String(attr(tool, GenAiAttr.toolCallArguments)))).toEqual(call.args);
      expect(attr(tool, AgentSpanAttr.toolExitCode)).toBe(call.result.exitCode);
      expect(attr(tool, AgentSpanAttr.toolOutcome)).toBe(call.result.exitCode === 0 ? 'success' : 'error');
      expect(attr(tool, GenAiAttr.toolCallResult)).toContain(`Process exited with code ${call.result.exitCode}`);
      expect(tool.startNs).toBeLessThan(tool.endNs!);
    }
  });

  it('tells each model call once, keyed by its usage, with the totals the CLI reported (cached in input, reasoning in output)', () => {
    const calls = viewsOf(views, 'model_call');
    expect(calls).toHaveLength(2);
    expect(facts.cliUsage).toMatchObject(codexUsageOf(calls));
    for (const c of calls) {
      expect(c).toMatchObject({ name: 'chat gpt-5.5', parent: prompt!.ref });
      expect(c.ref.key).toBe(
        `usage:${attr(c, GenAiAttr.inputTokens)}/${attr(c, GenAiAttr.cacheReadTokens)}/${attr(c, GenAiAttr.outputTokens)}/${attr(c, GenAiAttr.reasoningTokens)}`,
      );
      expect(attr(c, GenAiAttr.responseId)).toMatch(/^resp_/);
      expect(attr(c, GenAiAttr.providerName)).toBe('openai');
    }
    const first = JSON.parse(String(attr(calls[0], GenAiAttr.outputMessages))) as { parts: { type: string; id?: string }[] }[];
    expect(first[0]!.parts.map((p) => p.type)).toEqual(['reasoning', 'text', 'tool_call']);
    expect(first[0]!.parts[2]!.id).toBe(facts.toolCalls[0]!.id);
    expect(messageText(attr(calls[1], GenAiAttr.outputMessages))).toBe(facts.finalAnswer);
  });

  it('counts the records it has no use for, by type, and never skips one of the records it maps', () => {
    expect(Object.fromEntries(parser.skipped)).toEqual({
      'response_item message developer': 1,
      'response_item message user': 2,
      'record type world_state': 1,
      'event_msg thread_settings_applied': 1,
      'event_msg item_completed Reasoning': 1,
      'event_msg item_completed AgentMessage': 2,
      'event_msg token_count': 2,
    });
  });

  it('takes the exit code of a failed command as the outcome, even where the run otherwise says success', () => {
    const failed = lines.map((l) =>
      l.includes('"CommandExecution"') || l.includes('"function_call_output"')
        ? l.replace('"exit_code":0', '"exit_code":1').replace('Process exited with code 0', 'Process exited with code 1')
        : l,
    );
    const [tool] = viewsOf(parseTranscript(codexFormat, failed, file).views, 'tool_call');
    expect(attr(tool, AgentSpanAttr.toolOutcome)).toBe('error');
    expect(attr(tool, AgentSpanAttr.toolExitCode)).toBe(1);
    expect(tool!.error).toBe('exit code 1');
  });
});

describe('Codex rollout, lines out of the ordinary', () => {
  const file = '/x/rollout-2026-11-21T23-43-58-01a2007e-c940-7bd1-9ae8-cc4563c8a361.jsonl';

  it('names the session from the file name and skips what it cannot read, counted, without throwing', () => {
    const parser = codexFormat.createParser(file);
    const lines = [
      'not json',
      '{"type":"compacted","payload":{}}',
      '{"timestamp":"2026-11-21T23:43:58.828Z","type":"event_msg","payload":{"type":"task_started","turn_id":"t1"}}',
      '[1]',
    ];
    const captures = lines.flatMap((l) => parser.parseLine(l));
    expect(captures.map((c) => [c.sessionId, c.views.map((v) => v.ref)])).toEqual([
      ['01a2007e-c940-7bd1-9ae8-cc4563c8a361', [{ kind: 'prompt', key: 't1' }]],
    ]);
    expect(Object.fromEntries(parser.skipped)).toEqual({ 'broken JSON': 2, 'record type compacted': 1 });
  });

  it('waits for session_meta when the file name does not tell the session', () => {
    const parser = codexFormat.createParser('/x/other.jsonl');
    expect(parser.parseLine('{"type":"event_msg","payload":{"type":"task_started","turn_id":"t1"}}')).toEqual([]);
    expect(parser.parseLine('{"type":"session_meta","payload":{"id":"s1","timestamp":"2026-11-21T23:43:58.791Z"}}')[0]!.sessionId).toBe(
      's1',
    );
    expect(parser.skipped.get('record before the session id is known')).toBe(1);
  });
});
