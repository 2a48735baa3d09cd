import { describe, expect, it } from 'vitest';
import { isSpanId, isTraceId, spanIdFor, traceIdFor } from './ids.ts';

describe('deterministic ids', () => {
  it('names the same session and span the same way every time', () => {
    const t = traceIdFor('claude-code', '2e82783c-48d5-44be-b855-1acd1651fe75');
    expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdFor('claude-code', '2e82783c-48d5-44be-b855-1acd1651fe75')).toBe(t);
    expect(spanIdFor(t, 'execute_tool', 'toolu_01')).toBe(spanIdFor(t, 'execute_tool', 'toolu_01'));
    expect(isTraceId(t) && isSpanId(spanIdFor(t, 'chat', 'msg_1'))).toBe(true);
  });

  it('separates agents, kinds and keys', () => {
    expect(traceIdFor('codex', 's1')).not.toBe(traceIdFor('claude-code', 's1'));
    const t = traceIdFor('codex', 's1');
    expect(spanIdFor(t, 'chat', 'x')).not.toBe(spanIdFor(t, 'execute_tool', 'x'));
    // Length-prefixed parts: moving a boundary changes the id.
    expect(traceIdFor('ab', 'c')).not.toBe(traceIdFor('a', 'bc'));
  });

  it('rejects invalid ids', () => {
    expect(isTraceId('0'.repeat(32))).toBe(false);
    expect(isTraceId('ab')).toBe(false);
    expect(isSpanId('0'.repeat(16))).toBe(false);
    expect(isSpanId('G'.repeat(16))).toBe(false);
  });
});
