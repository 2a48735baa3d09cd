import { describe, expect, it } from 'vitest';
import { applyEdits, EditError, missingEdits, parseEditRecord, revertEdits, type JsonObject } from './json-edits.ts';

const group = { matcher: '*', hooks: [{ type: 'http', url: 'http://127.0.0.1:4319/v1/hooks' }] };

describe('JSON settings edits', () => {
  it('are undone exactly, including null and nested previous values and containers they made', () => {
    const doc: JsonObject = { a: { keep: 1, x: null }, hooks: { Stop: [] } };
    const original = structuredClone(doc);
    const record = applyEdits(doc, {
      values: [
        { path: ['a', 'x'], value: 'set' },
        { path: ['b', 'c', 'd'], value: true },
      ],
      hooks: [
        { event: 'Stop', group },
        { event: 'SessionEnd', group },
      ],
    });
    expect(doc).toEqual({ a: { keep: 1, x: 'set' }, hooks: { Stop: [group], SessionEnd: [group] }, b: { c: { d: true } } });
    expect(record.created).toEqual([['b'], ['b', 'c'], ['hooks', 'SessionEnd']]);
    revertEdits(doc, record);
    expect(doc).toEqual(original); // the user's empty Stop list stays
  });

  it('claims an identical group already there instead of adding a second one', () => {
    const doc: JsonObject = { hooks: { Stop: [{ hooks: group.hooks, matcher: '*' }] } };
    const record = applyEdits(doc, { values: [], hooks: [{ event: 'Stop', group }] });
    expect((doc.hooks as JsonObject).Stop).toHaveLength(1);
    expect(missingEdits(doc, record)).toEqual({ events: [], values: [] });
  });

  it('a container the user filled since is kept, with what they put in it', () => {
    const doc: JsonObject = {};
    const record = applyEdits(doc, { values: [{ path: ['env', 'A'], value: '1' }], hooks: [] });
    (doc.env as JsonObject).MINE = 'x';
    revertEdits(doc, record);
    expect(doc).toEqual({ env: { MINE: 'x' } });
  });

  it('reports what was removed or changed by hand', () => {
    const doc: JsonObject = {};
    const record = applyEdits(doc, {
      values: [
        { path: ['env', 'A'], value: '1' },
        { path: ['env', 'B'], value: '2' },
      ],
      hooks: [{ event: 'Stop', group }],
    });
    (doc.env as JsonObject).A = 'other';
    delete (doc.env as JsonObject).B;
    (doc.hooks as JsonObject).Stop = [];
    expect(missingEdits(doc, record)).toEqual({ events: ['Stop'], values: ['env.A was changed', 'env.B was removed'] });
  });

  it('refuses a document whose shape does not allow the edit', () => {
    expect(() => applyEdits({ env: 'x' }, { values: [{ path: ['env', 'A'], value: '1' }], hooks: [] })).toThrow(
      new EditError('"env" must be an object'),
    );
    expect(() => applyEdits({ hooks: { Stop: {} } }, { values: [], hooks: [{ event: 'Stop', group }] })).toThrow(
      '"hooks.Stop" must be an array',
    );
  });

  it('validates a record read back from disk', () => {
    expect(() => parseEditRecord({ created: [], values: [{ path: 'env' }], hooks: [] })).toThrow(/edits.values/);
    expect(parseEditRecord({ created: [['env']], values: [], hooks: [] })).toEqual({ created: [['env']], values: [], hooks: [] });
  });
});
