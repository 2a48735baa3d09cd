import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateThread, startScriptedModel, type Script, type ScriptedModel } from './scripted-model.ts';

const usage = { input_tokens: 3, output_tokens: 20, cache_read_input_tokens: 100, cache_creation_input_tokens: 50 };
const script: Script = {
  'first prompt': [
    { text: 'a', tools: [{ id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }], usage },
    { text: 'done', usage },
  ],
  'second prompt': [{ text: 'b', usage, failFirst: { times: 1, error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } } }],
};

const user = (content: unknown) => ({ role: 'user', content });
const assistant = (text: string) => ({ role: 'assistant', content: [{ type: 'text', text }] });
const reminder = { type: 'text', text: '<system-reminder>\nsecond prompt is mentioned here\n</system-reminder>' };

describe('locateThread', () => {
  it('finds the thread by the latest user prompt and counts the assistant turns after it', () => {
    expect(locateThread(script, [user([reminder, { type: 'text', text: 'first prompt' }])])).toEqual({ thread: 'first prompt', step: 0 });
    const history = [
      user('first prompt'),
      assistant('a'),
      user([{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'x' }]),
      { role: 'system', content: 'context' },
      assistant('done'),
    ];
    expect(locateThread(script, history)).toEqual({ thread: 'first prompt', step: 2 });
    // A resumed session: the history of the first prompt, then the second.
    expect(locateThread(script, [...history, user([reminder, { type: 'text', text: 'second prompt' }])])).toEqual({
      thread: 'second prompt',
      step: 0,
    });
  });

  it('ignores system reminders and knows no thread for an unscripted prompt', () => {
    expect(locateThread(script, [user([reminder, { type: 'text', text: 'something else' }])])).toEqual({ thread: undefined, step: 0 });
  });
});

describe('scripted model server', () => {
  let model: ScriptedModel;
  beforeAll(async () => {
    model = await startScriptedModel();
    model.load(script);
  });
  afterAll(() => model.close());

  const post = (messages: unknown[], stream = true) =>
    fetch(`${model.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-claude-code-session-id': 's-1' },
      body: JSON.stringify({ model: 'claude-test-1', stream, messages }),
    });

  it('streams a message as the Messages API does: events in order, tool input as JSON deltas, usage with cache fields', async () => {
    const res = await post([user('first prompt')]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const events = (await res.text())
      .split('\n\n')
      .filter(Boolean)
      .map((chunk) => {
        const [event, data] = chunk.split('\n');
        return { event: event!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) as Record<string, any> };
      });
    expect(events.map((e) => e.event).filter((e) => e !== 'ping')).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0]!.data.message).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      model: 'claude-test-1',
      usage: { cache_read_input_tokens: 100 },
    });
    const json = events
      .filter((e) => e.data.index === 1 && e.event === 'content_block_delta')
      .map((e) => e.data.delta.partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ command: 'ls' });
    expect(events.find((e) => e.event === 'message_delta')!.data).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { output_tokens: 20 },
    });
  });

  it('answers the scripted error first, then the reply to the retry; records each exchange', async () => {
    model.reset();
    const first = await post([user('second prompt')], false);
    expect(first.status).toBe(529);
    expect(await first.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    const retry = await post([user('second prompt')], false);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'b' }], stop_reason: 'end_turn' });
    expect(model.exchanges().map((e) => [e.sessionId, e.thread, e.step, e.status])).toEqual([
      ['s-1', 'second prompt', 0, 529],
      ['s-1', 'second prompt', 0, 200],
    ]);
  });

  it('reports requests it has no reply for', async () => {
    model.reset();
    const res = await post([user('second prompt'), assistant('b'), user('more')]);
    expect(res.status).toBe(400);
    expect(model.unexpected()).toHaveLength(1);
  });
});
