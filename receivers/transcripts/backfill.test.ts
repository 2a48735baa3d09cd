import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../test/helpers/fixtures.ts';
import { tempDir } from '../../test/helpers/pipeline.ts';
import { findTranscripts, readTranscript } from './backfill.ts';
import { claudeCodeFormat } from './claude-code.ts';

const baseline = path.join(fixturesDir, 'claude-code/a-baseline/transcripts/2e82783c-48d5-44be-b855-1acd1651fe75.jsonl');

describe('import backfill', () => {
  it.each([
    ['claude-code', 'claude-code/a-baseline/transcripts', ['2e82783c-48d5-44be-b855-1acd1651fe75.jsonl']],
    [
      'codex',
      'codex/baseline-shell',
      ['transcript/sessions/2026/11/21/rollout-2026-11-21T23-43-58-01a2007e-c940-7bd1-9ae8-cc4563c8a361.jsonl'],
    ],
    ['gemini-cli', 'gemini/baseline-shell', ['transcript/tmp/todo-api/chats/session-2026-11-21T23-44-f5a35f38.jsonl']],
  ] as const)('finds the %s transcripts under a folder at any depth', async (agent, dir, files) => {
    const root = path.join(fixturesDir, dir);
    expect(await findTranscripts(root, agent)).toEqual(files.map((f) => path.join(root, f)));
  });

  it('takes a file as it is', async () => {
    expect(await findTranscripts(baseline, 'claude-code')).toEqual([baseline]);
  });

  it('reads a file in batches, and a last line without its newline too', async () => {
    const lines = readFileSync(baseline, 'utf8').trim().split('\n');
    const file = path.join(tempDir('backfill'), 'session.jsonl');
    writeFileSync(file, lines.join('\n')); // no newline at the end
    const parser = claudeCodeFormat.createParser(file);
    const batches = [];
    for await (const b of readTranscript(file, parser, 16 * 1024)) batches.push(b);
    expect(batches.length).toBe(2); // the complete lines (one 1 MiB read), then the last line
    expect(batches.reduce((n, b) => n + b.lines, 0)).toBe(lines.length);
    expect(batches.at(-1)!.bytesRead).toBe(Buffer.byteLength(lines.join('\n')));
    // The last line is the cost-state record: the session's cost is known.
    const session = batches
      .at(-1)!
      .captures.flatMap((c) => c.views)
      .find((v) => v.ref.kind === 'session');
    expect(session?.attributes?.['agentotel.agent.cost_usd']).toBe(0.07676899999999999);
    expect(parser.skipped.get('broken JSON')).toBeUndefined();
  });
});
