import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool, type SpoolEntry } from './spool.ts';

const entry = (n: number): SpoolEntry => ({
  payloads: n,
  traces: { resourceSpans: [{ resource: { attributes: [{ key: 'n', value: { stringValue: String(n) } }] } }] },
});
const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'agentotel-spool-'));

describe('hooks spool', () => {
  it('keeps entries across restarts, oldest first, until removed', async () => {
    const dir = tempDir();
    const spool = new Spool(dir, 1024 * 1024);
    await spool.open();
    for (const n of [1, 2, 3]) expect(await spool.append(entry(n))).toBe(true);
    await spool.removeHead();

    const reopened = new Spool(dir, 1024 * 1024);
    await reopened.open();
    expect(reopened.entries).toBe(2);
    expect(reopened.bytes).toBe(spool.bytes);
    expect(await reopened.head()).toEqual(entry(2));
    await reopened.removeHead();
    expect(await reopened.append(entry(4))).toBe(true); // numbered after what it found
    expect(await reopened.head()).toEqual(entry(3));
    await reopened.removeHead();
    expect(await reopened.head()).toEqual(entry(4));
  });

  it('refuses an entry that would take it over its size limit', async () => {
    const bytes = Buffer.byteLength(JSON.stringify(entry(1)));
    const spool = new Spool(tempDir(), bytes * 2);
    await spool.open();
    expect([await spool.append(entry(1)), await spool.append(entry(2)), await spool.append(entry(3))]).toEqual([true, true, false]);
    expect(spool.hasRoom()).toBe(false);
    await spool.removeHead();
    expect(spool.hasRoom()).toBe(true);
  });

  it('drops half-written files and moves unreadable entries aside', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, '0000000000000001.json'), '{"payloads": 1, "tra');
    writeFileSync(path.join(dir, '0000000000000002.json'), JSON.stringify(entry(2)));
    writeFileSync(path.join(dir, '0000000000000003.json.tmp'), '{');
    const spool = new Spool(dir, 1024 * 1024);
    await spool.open();
    expect(await spool.head()).toEqual(entry(2));
    expect(spool.entries).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['0000000000000001.json.corrupt', '0000000000000002.json']);
  });
});
