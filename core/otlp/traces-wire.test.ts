import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { traceCaptures } from '../../test/helpers/fixtures.ts';
import { encodeProtobuf, requestType } from './codec.ts';
import type { TracesData } from './model.ts';
import { decodeTracesWire, uint64Decimal } from './traces-wire.ts';

type Json = Record<string, unknown>;

/** The reflection path the wire decoder replaces: protobufjs decode + toObject, ids base64 -> hex. */
function reflectionDecode(bytes: Uint8Array): TracesData {
  const type = requestType('traces');
  const obj = type.toObject(type.decode(bytes), { longs: String, enums: Number, bytes: String }) as Json;
  const hex = (o: Json, keys: string[]) => {
    for (const k of keys) if (typeof o[k] === 'string') o[k] = Buffer.from(o[k] as string, 'base64').toString('hex');
  };
  for (const rs of (obj.resourceSpans ?? []) as Json[]) {
    for (const ss of (rs.scopeSpans ?? []) as Json[]) {
      for (const span of (ss.spans ?? []) as Json[]) {
        hex(span, ['traceId', 'spanId', 'parentSpanId']);
        for (const link of (span.links ?? []) as Json[]) hex(link, ['traceId', 'spanId']);
      }
    }
  }
  return obj as TracesData;
}

/** `sameKeyOrder`: also in the same key order, which holds for fields written in field-number order. */
function expectSameAsReflection(bytes: Uint8Array, sameKeyOrder = true): void {
  let expected: TracesData | Error;
  try {
    expected = reflectionDecode(bytes);
  } catch (err) {
    expected = err as Error;
  }
  if (expected instanceof Error) {
    expect(() => decodeTracesWire(bytes)).toThrow();
    return;
  }
  const actual = decodeTracesWire(bytes);
  expect(actual).toStrictEqual(expected);
  if (sameKeyOrder) expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
}

// Raw messages built field by field, to write what an encoder of the model never would.
type Part = (w: protobuf.Writer) => unknown;
const len =
  (field: number, ...inner: Part[]): Part =>
  (w) => {
    w.uint32((field << 3) | 2).fork();
    for (const p of inner) p(w);
    w.ldelim();
  };
const raw = (...parts: Part[]) => {
  const w = protobuf.Writer.create();
  for (const p of parts) p(w);
  return w.finish();
};
const inSpan = (...fields: Part[]) => raw(len(1, len(2, len(2, ...fields))));
const traceId = (w: protobuf.Writer) => w.uint32(10).bytes(Buffer.alloc(16, 0xab));
const spanId = (w: protobuf.Writer) => w.uint32(18).bytes(Buffer.alloc(8, 0xcd));
const attr = (key: string, ...value: Part[]) => len(9, (w) => w.uint32(10).string(key), len(2, ...value));
const arrayOf = (s: string) =>
  len(
    5,
    len(1, (x) => x.uint32(10).string(s)),
  );

describe('hand-written traces protobuf decoder', () => {
  it('decodes exactly as the reflection codec: real Claude Code captures', () => {
    let checked = 0;
    for (const c of traceCaptures('claude-code')) {
      expectSameAsReflection(c.body);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('decodes exactly as the reflection codec: every field, nested values, int64 extremes, timestamps', () => {
    const data: TracesData = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }], droppedAttributesCount: 2 },
          schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
          scopeSpans: [
            {
              scope: { name: 'scope', version: '1', attributes: [{ key: 'k', value: { boolValue: false } }], droppedAttributesCount: 1 },
              schemaUrl: 's',
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  parentSpanId: 'eee19b7ec3c1b173',
                  traceState: 'a=b',
                  flags: 0x301,
                  name: 'ünïcode ✓ 🚀',
                  kind: 5,
                  startTimeUnixNano: '18446744073709551615',
                  endTimeUnixNano: '1',
                  attributes: [
                    { key: 'max', value: { intValue: '9223372036854775807' } },
                    { key: 'min', value: { intValue: '-9223372036854775808' } },
                    { key: 'neg', value: { intValue: '-1' } },
                    { key: 'big', value: { intValue: '562949953421312' } },
                    { key: 'd', value: { doubleValue: -1.5e-300 } },
                    { key: 'empty', value: { stringValue: '' } },
                    { key: 'bytes', value: { bytesValue: 'AQID/w==' } },
                    { key: 'none', value: {} },
                    {
                      key: 'arr',
                      value: { arrayValue: { values: [{ stringValue: 'x' }, { arrayValue: { values: [{ intValue: '3' }] } }] } },
                    },
                    { key: 'kv', value: { kvlistValue: { values: [{ key: 'inner', value: { boolValue: true } }] } } },
                    { key: 'long', value: { stringValue: 'é'.repeat(100) + 'x'.repeat(100) } },
                  ],
                  droppedAttributesCount: 3,
                  events: [
                    {
                      timeUnixNano: '1544712660500000000',
                      name: 'ev',
                      attributes: [{ key: 'k', value: { doubleValue: 0 } }],
                      droppedAttributesCount: 1,
                    },
                  ],
                  droppedEventsCount: 4,
                  links: [
                    {
                      traceId: '00000000000000000000000000000001',
                      spanId: '0000000000000002',
                      traceState: 't',
                      flags: 1,
                      droppedAttributesCount: 6,
                    },
                  ],
                  droppedLinksCount: 5,
                  status: { code: 2, message: 'boom' },
                },
                { traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), name: '', startTimeUnixNano: '0', endTimeUnixNano: '0', status: {} },
              ],
            },
          ],
        },
        { resource: {}, scopeSpans: [{ spans: [] }, {}] },
      ],
    };
    expectSameAsReflection(encodeProtobuf('traces', data));
  });

  it('follows protobufjs on unusual encodings: defaults on the wire, repeats, oneof, unknown fields, wrong wire types', () => {
    const cases: Uint8Array[] = [
      // kind 0, empty name, zero timestamps written explicitly: absent, as with protobufjs
      inSpan(
        traceId,
        spanId,
        (w) => w.uint32(48).int32(0),
        (w) => w.uint32(42).string(''),
        (w) => w.uint32(57).fixed64(0),
      ),
      // a later default value removes an earlier one; the last scalar wins
      inSpan(
        traceId,
        spanId,
        (w) => w.uint32(42).string('first'),
        (w) => w.uint32(42).string(''),
        (w) => w.uint32(48).int32(2),
        (w) => w.uint32(48).int32(3),
      ),
      // two status messages merge; a negative enum; a huge uint32 varint
      inSpan(
        traceId,
        len(15, (s) => s.uint32(18).string('m')),
        len(15, (s) => s.uint32(24).int32(-2)),
        (w) => w.uint32(80).uint64(2 ** 40 + 7),
      ),
      // oneof: the last member on the wire wins; two arrayValues merge
      inSpan(
        traceId,
        attr('k', (v) => v.uint32(10).string('s').uint32(16).bool(true)),
      ),
      inSpan(
        traceId,
        attr('k', (v) => v.uint32(16).bool(true).uint32(10).string('s')),
      ),
      inSpan(
        traceId,
        attr('k', (v) => v.uint32(10).string('gone'), arrayOf('a')),
      ),
      inSpan(traceId, attr('k', arrayOf('a'), arrayOf('b'))),
      // a bool written as a 10-byte varint with only high bits set
      inSpan(
        traceId,
        attr('b', (v) => v.uint32(16).uint64('9223372036854775808')),
      ),
      // unknown fields of every wire type are skipped, also groups
      inSpan(
        traceId,
        (w) => w.uint32((99 << 3) | 0).uint32(5),
        (w) => w.uint32((98 << 3) | 1).fixed64(1),
        (w) => w.uint32((97 << 3) | 5).fixed32(1),
        (w) => w.uint32((96 << 3) | 2).string('x'),
        (w) =>
          w
            .uint32((95 << 3) | 3)
            .uint32((94 << 3) | 0)
            .uint32(1)
            .uint32((95 << 3) | 4),
      ),
      // a known field with the wrong wire type is skipped
      inSpan(
        traceId,
        (w) => w.uint32((5 << 3) | 0).uint32(7),
        (w) => w.uint32((7 << 3) | 2).string('not fixed64'),
      ),
      // an empty request and an empty resourceSpans
      raw(),
      raw(len(1, () => {})),
    ];
    cases.forEach((bytes, i) => {
      try {
        expectSameAsReflection(bytes, false);
      } catch (err) {
        throw new Error(`case ${i}: ${(err as Error).message}`);
      }
    });
  });

  it('rejects malformed input where the reflection codec does', () => {
    const good = inSpan(
      traceId,
      spanId,
      attr('k', (v) => v.uint32(10).string('value')),
    );
    const cases: Uint8Array[] = [
      good.subarray(0, good.length - 3), // truncated
      Buffer.from('not protobuf at all'),
      inSpan(
        traceId,
        attr('k', (v) => v.uint32(10).bytes(Buffer.from([0xff, 0xfe]))),
      ), // invalid UTF-8
      raw((w) => w.uint32(0).uint32(0)), // field number 0
      raw((w) => w.uint32((1 << 3) | 7)), // wire type 7
      raw((w) => w.uint32((5 << 3) | 3).uint32((6 << 3) | 4)), // mismatched end group
      raw((w) => w.uint32(10).uint32(1000)), // length beyond the end
      raw((w) => w.uint32(8).bytes(Buffer.alloc(11, 0xff))), // varint longer than 10 bytes
    ];
    for (const bytes of cases) {
      expect(() => reflectionDecode(bytes)).toThrow();
      expect(() => decodeTracesWire(bytes)).toThrow();
    }
  });

  it('writes uint64 timestamps in decimal exactly, across the whole range', () => {
    const values = [0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 10n ** 14n, 10n ** 19n, 2n ** 64n - 1n, 1_700_000_000_123_456_789n];
    for (let i = 0; i < 10_000; i++)
      values.push(BigInt(Math.floor(Math.random() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(Math.random() * 2 ** 32)));
    for (const v of values) expect(uint64Decimal(Number(v & 0xffffffffn), Number(v >> 32n))).toBe(v.toString());
  });

  it('decodes short strings exactly while reusing them across spans (also when they collide)', () => {
    const spans = Array.from({ length: 3_000 }, (_, i) => ({
      traceId: 'ab'.repeat(16),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: i % 2 ? 'chat' : `k${i}`,
      startTimeUnixNano: '1',
      endTimeUnixNano: '2',
      attributes: [
        { key: `key.${i % 5000}`, value: { stringValue: `v${(i * 7919) % 4099}` } },
        { key: 'x'.repeat(i % 33), value: { stringValue: String.fromCharCode(97 + (i % 26)).repeat(i % 40) } },
      ],
    }));
    expectSameAsReflection(encodeProtobuf('traces', { resourceSpans: [{ scopeSpans: [{ spans }] }] }));
  });

  it('stops at protobufjs nesting limit (100) instead of overflowing the stack', () => {
    let value: Part = (v) => v.uint32(10).string('leaf');
    for (let i = 0; i < 60; i++) value = len(5, len(1, value));
    const deep = inSpan(traceId, attr('deep', value));
    expect(() => reflectionDecode(deep)).toThrow(/max depth exceeded/);
    expect(() => decodeTracesWire(deep)).toThrow(/max depth exceeded/);
  });
});
