import { describe, expect, it } from 'vitest';
import { blockLines, removeBlock, upsertBlock } from './marked-block.ts';

const TITLE = 'test';

describe('marked block', () => {
  it('is appended after a blank line, replaced in place, and removed with that blank line', () => {
    const user = 'model = "x"\n\n[features]\nhooks = true\n';
    const once = upsertBlock(user, TITLE, ['[otel]', 'a = 1']);
    expect(once).toBe(`${user}\n# >>> agentotel (test) >>>\n[otel]\na = 1\n# <<< agentotel <<<\n`);
    const edited = once + '# the user added this after\n';
    const twice = upsertBlock(edited, TITLE, ['[otel]', 'a = 2']);
    expect(twice).toBe(`${user}\n# >>> agentotel (test) >>>\n[otel]\na = 2\n# <<< agentotel <<<\n# the user added this after\n`);
    expect(blockLines(twice)).toEqual(['[otel]', 'a = 2']);
    expect(removeBlock(twice)).toBe(`${user}# the user added this after\n`);
    expect(removeBlock(once)).toBe(user);
  });

  it('makes a file of its own, and removing it leaves no file', () => {
    const created = upsertBlock(null, TITLE, ['K="v"']);
    expect(created).toBe('# >>> agentotel (test) >>>\nK="v"\n# <<< agentotel <<<\n');
    expect(removeBlock(created)).toBeNull();
    expect(removeBlock(null)).toBeNull();
  });

  it('a file without a final newline gets one before the block', () => {
    expect(upsertBlock('A=1', TITLE, ['B=2'])).toBe('A=1\n\n# >>> agentotel (test) >>>\nB=2\n# <<< agentotel <<<\n');
  });

  it('leaves a file without the block alone', () => {
    expect(removeBlock('A=1\n')).toBe('A=1\n');
    expect(blockLines('A=1\n')).toBeUndefined();
  });
});
