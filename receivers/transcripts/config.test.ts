import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, Fields } from '../../core/config/fields.ts';
import { transcriptsReceiverFactory } from './index.ts';
import { compilePathPattern } from './path-pattern.ts';

const parseAt = (raw: unknown) => transcriptsReceiverFactory.parseConfig(new Fields(raw, 'receivers.transcripts'));
const testdata = (name: string) => parse(readFileSync(new URL(`testdata/${name}`, import.meta.url), 'utf8')) as unknown;
const home = os.homedir();

describe('transcripts receiver config', () => {
  it('parses testdata/valid.yaml, with each agent’s defaults and ~ expanded', () => {
    expect(parseAt(testdata('valid.yaml'))).toEqual({
      sources: [
        { agent: 'claude-code', root: path.join(home, '.claude/projects'), include: '**/*.jsonl' },
        { agent: 'claude-code', root: path.join(home, 'work/claude-archive'), include: '*/*.jsonl' },
        { agent: 'claude-code', root: '/var/lib/agents/claude', include: '**/*.jsonl' },
      ],
      pollIntervalMs: 250,
      startAt: 'end',
    });
  });

  it('rejects testdata/invalid.yaml naming the key', () => {
    expect(() => parseAt(testdata('invalid.yaml'))).toThrow(
      new ConfigError('receivers.transcripts.sources[0].include', 'must not have empty, . or .. segments (got "../outside/*.jsonl")'),
    );
  });

  it('polls every second and reads files found at the first start from their beginning by default', () => {
    expect(parseAt({ sources: [{ agent: 'claude-code', root: '/t' }] })).toEqual({
      sources: [{ agent: 'claude-code', root: '/t', include: '**/*.jsonl' }],
      pollIntervalMs: 1000,
      startAt: 'beginning',
    });
  });

  it.each([
    [{}, 'receivers.transcripts.sources: must list at least one source, e.g. [{ agent: claude-code }] (got nothing)'],
    [{ sources: [] }, 'receivers.transcripts.sources: must list at least one source, e.g. [{ agent: claude-code }] (got [])'],
    [{ sources: [{ root: '/t' }] }, 'receivers.transcripts.sources[0].agent: is required (one of claude-code, codex, gemini-cli)'],
    [
      { sources: [{ agent: 'cursor' }] },
      'receivers.transcripts.sources[0].agent: must be one of claude-code, codex, gemini-cli (got "cursor")',
    ],
    [{ sources: ['claude-code'] }, 'receivers.transcripts.sources[0]: must be a mapping (got "claude-code")'],
    [{ sources: [{ agent: 'claude-code', root: ' ' }] }, 'receivers.transcripts.sources[0].root: must not be empty'],
    [
      { sources: [{ agent: 'claude-code', include: '/abs/*.jsonl' }] },
      'receivers.transcripts.sources[0].include: must be relative to root, with / separators (got "/abs/*.jsonl")',
    ],
    [
      { sources: [{ agent: 'claude-code', include: 'a**/b' }] },
      'receivers.transcripts.sources[0].include: ** must be a whole path segment (got "a**/b")',
    ],
    [{ sources: [{ agent: 'claude-code', path: '/t' }] }, 'receivers.transcripts.sources[0].path: unknown key'],
    [
      { sources: [{ agent: 'claude-code' }], poll_interval: 'often' },
      'receivers.transcripts.poll_interval: must be a duration such as 500ms, 5s, 1h (got "often")',
    ],
    [{ sources: [{ agent: 'claude-code' }], poll_interval: '1ms' }, 'receivers.transcripts.poll_interval: must be at least 10ms (got 1ms)'],
    [
      { sources: [{ agent: 'claude-code' }], start_at: 'middle' },
      'receivers.transcripts.start_at: must be one of beginning, end (got "middle")',
    ],
    [{ sources: [{ agent: 'claude-code' }], tail: true }, 'receivers.transcripts.tail: unknown key'],
  ])('rejects %j', (raw, message) => {
    expect(() => parseAt(raw)).toThrow(message);
  });
});

describe('include patterns', () => {
  it.each([
    ['**/*.jsonl', 'proj/abc.jsonl', true],
    ['**/*.jsonl', 'abc.jsonl', true],
    ['**/*.jsonl', 'proj/abc/subagents/agent-1.jsonl', true],
    ['**/*.jsonl', 'proj/abc.json', false],
    ['**/rollout-*.jsonl', '2026/11/21/rollout-2026-11-21T23-43-58-01a2.jsonl', true],
    ['**/rollout-*.jsonl', '2026/11/21/other.jsonl', false],
    ['*/chats/session-*.jsonl', 'todo-api/chats/session-2026-11-21T23-44-f5a35f38.jsonl', true],
    ['*/chats/session-*.jsonl', 'a/b/chats/session-1.jsonl', false],
    ['*/chats/session-?.jsonl', 'x/chats/session-1.jsonl', true],
    ['a.b/*.jsonl', 'axb/c.jsonl', false],
  ])('%s matches %s: %s', (pattern, file, expected) => {
    expect(compilePathPattern(pattern).matches(file)).toBe(expected);
  });

  it('walks no deeper than a pattern without ** can match', () => {
    expect(compilePathPattern('*/chats/session-*.jsonl').maxDepth).toBe(3);
    expect(compilePathPattern('**/*.jsonl').maxDepth).toBe(Infinity);
  });
});
