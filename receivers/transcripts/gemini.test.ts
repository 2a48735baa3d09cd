/**
 * The Gemini chat file parser against the chat file of every Gemini fixture: the views must
 * tell the facts the scenario's MANIFEST states that a chat file records, survive the record
 * rewritten once its tool calls are attached, and take a non-zero exit code as an error.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentSpanAttr, GenAiAttr } from '../../core/agent/genai.ts';
import { toNs } from '../../core/agent/session-spans.ts';
import { attr, messageText, parseTranscript, scenarioRows, transcriptScenario, viewsOf } from '../../test/helpers/agent-fixtures.ts';
import { geminiFormat } from './gemini.ts';

interface ModelUsage {
  input_tokens: number;
  output_tokens: number;
  cached: number;
}

describe.each(scenarioRows('gemini'))('Gemini chat file of fixture %s', (_name, dir) => {
  const { facts, file, others, lines } = transcriptScenario(dir);
  const { parser, perLine, captures, views } = parseTranscript(geminiFormat, lines, file);
  const [session, ...moreSessions] = viewsOf(views, 'session');
  const calls = viewsOf(views, 'model_call');

  it('names the session by its id, from the start time to the last update', () => {
    expect(others).toEqual([]);
    expect(path.basename(file)).toMatch(new RegExp(`^session-.+-${facts.sessionId.slice(0, 8)}\\.jsonl$`));
    expect(captures.every((c) => c.agent === 'gemini-cli' && c.path === 'transcript' && c.sessionId === facts.sessionId)).toBe(true);
    expect(moreSessions).toEqual([]);
    const meta = JSON.parse(lines[0]!) as { startTime: string };
    const updates = lines.map((l) => /"lastUpdated":"([^"]+)"/.exec(l)?.[1]).filter((t) => t !== undefined);
    expect(session).toMatchObject({ ref: { key: facts.sessionId }, startNs: toNs(meta.startTime), endNs: toNs(updates.at(-1)) });
  });

  it('keeps the prompt as an event of the session (a chat file has no prompt id), not the context the CLI injected', () => {
    expect(viewsOf(views, 'prompt')).toEqual([]);
    expect(session!.events!.map((e) => [e.name, messageText(e.attributes?.[GenAiAttr.inputMessages])])).toEqual([
      ['user_prompt', facts.prompt],
    ]);
    expect(parser.skipped.get('user message of a history snapshot')).toBe(1);
  });

  it('tells each tool call by its id: name, arguments, result and status', () => {
    const tools = viewsOf(views, 'tool_call');
    expect(tools.map((t) => t.ref.key)).toEqual(facts.toolCalls.map((t) => t.id));
    for (const [i, tool] of tools.entries()) {
      const call = facts.toolCalls[i]!;
      expect(tool.name).toBe(`execute_tool ${call.name}`);
      expect(JSON.parse(String(attr(tool, GenAiAttr.toolCallArguments)))).toEqual(call.args);
      expect(attr(tool, AgentSpanAttr.toolOutcome)).toBe(call.result.status);
      expect(attr(tool, GenAiAttr.toolCallResult)).toContain('Output: 2');
      expect(tool.error).toBeUndefined();
    }
  });

  it("tells the main model's calls with the CLI's totals (thoughts counted in output), and the final answer", () => {
    const models = facts.cliUsage.models as Record<string, ModelUsage>;
    const model = String(attr(calls[0], GenAiAttr.requestModel));
    expect(calls.every((c) => attr(c, GenAiAttr.requestModel) === model && c.name === `chat ${model}`)).toBe(true);
    const sum = (key: string) => calls.reduce((n, c) => n + (attr(c, key) as number), 0);
    expect(sum(GenAiAttr.inputTokens)).toBe(models[model]!.input_tokens);
    expect(sum(GenAiAttr.cacheReadTokens)).toBe(models[model]!.cached);
    expect(sum(GenAiAttr.reasoningTokens)).toBe(facts.scriptedTotals.thoughts);
    expect(sum(GenAiAttr.outputTokens)).toBe(models[model]!.output_tokens + facts.scriptedTotals.thoughts!);
    expect(messageText(attr(calls.at(-1), GenAiAttr.outputMessages))).toBe(facts.finalAnswer);
    const first = JSON.parse(String(attr(calls[0], GenAiAttr.outputMessages))) as { parts: { type: string }[] }[];
    expect(first[0]!.parts.map((p) => p.type)).toEqual(['reasoning', 'text', 'tool_call']);
  });

  it('gives the same spans for a message written again once its tool calls are attached', () => {
    const ids = lines.map((l) => /^\{"id":"([^"]+)".*"type":"gemini"/.exec(l)?.[1]);
    const rewritten = ids.findIndex((id, i) => id !== undefined && ids.indexOf(id) !== i);
    expect(rewritten).toBeGreaterThan(0);
    const first = perLine[ids.indexOf(ids[rewritten])]!.flatMap((c) => c.views);
    const last = perLine[rewritten]!.flatMap((c) => c.views);
    expect(first.map((v) => v.ref)).toEqual([{ kind: 'model_call', key: calls[0]!.ref.key }]);
    expect(last.map((v) => v.ref)).toEqual([calls[0]!.ref, ...facts.toolCalls.map((t) => ({ kind: 'tool_call', key: t.id }))]);
    expect(calls).toHaveLength(2);
  });

  it('takes "Exit Code: 1" in a result as a failure though the chat file says success', () => {
    const failed = lines.map((l) => l.replaceAll('Output: 2\\n', 'Output: 0\\nExit Code: 1\\n'));
    const [tool] = viewsOf(parseTranscript(geminiFormat, failed).views, 'tool_call');
    expect(attr(tool, AgentSpanAttr.toolOutcome)).toBe('error');
    expect(attr(tool, AgentSpanAttr.toolExitCode)).toBe(1);
    expect(tool!.error).toBe('exit code 1');
  });
});

describe('Gemini chat file, lines out of the ordinary', () => {
  it('skips what it cannot read, counted, and records before the metadata line', () => {
    const { parser, captures } = parseTranscript(geminiFormat, [
      '{"id":"a","type":"user","content":[{"text":"hi"}],"timestamp":"2026-11-21T23:44:10.000Z"}',
      '{"sessionId":"s1","projectHash":"h","startTime":"2026-11-21T23:44:09.926Z","lastUpdated":"2026-11-21T23:44:09.926Z","kind":"main"}',
      'not json',
      '{"id":"b","type":"info","content":"Model switched","timestamp":"2026-11-21T23:44:11.000Z"}',
      '{"$set":{"theme":"dark"}}',
    ]);
    expect(captures.map((c) => c.sessionId)).toEqual(['s1']);
    expect(Object.fromEntries(parser.skipped)).toEqual({
      'record before the session metadata': 1,
      'broken JSON': 1,
      'message type info': 1,
      '$set of theme': 1,
    });
  });
});
