import { describe, expect, it } from 'vitest';
import { parseResourceAttributes } from './resource-attributes.ts';

describe('parseResourceAttributes', () => {
  it('reads comma-separated key=value pairs with percent-encoded values', () => {
    expect(parseResourceAttributes('team=pay%20ments, user.email=ana@example.com,department=eng')).toEqual({
      team: 'pay ments',
      'user.email': 'ana@example.com',
      department: 'eng',
    });
  });

  it('skips pairs without a key or with broken percent-encoding, and reads nothing from nothing', () => {
    expect(parseResourceAttributes('=x,novalue,bad=%E0%A4%A,ok=1')).toEqual({ ok: '1' });
    expect(parseResourceAttributes(undefined)).toEqual({});
    expect(parseResourceAttributes('')).toEqual({});
  });
});
