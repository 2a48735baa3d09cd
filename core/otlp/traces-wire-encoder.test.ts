import { describe, expect, it } from 'vitest';
import { traceCaptures } from '../../test/helpers/fixtures.ts';
import { decodeJson, decodeProtobuf, encodeProtobuf, requestType } from './codec.ts';
import type { AnyValue, KeyValue, Span, TracesData } from './model.ts';
import { decodeTracesWire } from './traces-wire.ts';
import { encodeTracesWire } from './traces-wire-encoder.ts';

type Json = Record<string, unknown>;

/** The reflection path the wire encoder replaces: ids hex -> bytes, protobufjs fromObject + encode. */
function reflectionEncode(data: TracesData): Uint8Array {
  const copy = structuredClone(data) as Json;
  const bytes = (o: Json, keys: string[]) => {
    for (const k of keys) if (o[k] !== undefined && o[k] !== null) o[k] = Buffer.from(String(o[k]), 'hex');
  };
  for (const rs of (copy.resourceSpans ?? []) as Json[]) {
    for (const ss of (rs.scopeSpans ?? []) as Json[]) {
      for (const span of (ss.spans ?? []) as Json[]) {
        bytes(span, ['traceId', 'spanId', 'parentSpanId']);
        for (const link of (span.links ?? []) as Json[]) bytes(link, ['traceId', 'spanId']);
      }
    }
  }
  const type = requestType('traces');
  return type.encode(type.fromObject(copy)).finish();
}

function expectSameBytes(data: TracesData): void {
  const fast = encodeTracesWire(data);
  expect(fast, 'the model-shaped message took the fallback').toBeDefined();
  expect(Buffer.from(fast!).toString('hex')).toBe(Buffer.from(reflectionEncode(data)).toString('hex'));
}

/** A small deterministic PRNG, so a failing case can be reproduced. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomData(random: () => number): TracesData {
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const int = (n: number) => Math.floor(random() * n);
  const hex = (bytes: number) => Array.from({ length: bytes }, () => int(256).toString(16).padStart(2, '0')).join('');
  const text = (): string => {
    const alphabet = pick(['abc xyz_-/.', 'é✓ü', '🚀a', '\u0000\n"\\']);
    const length = pick([0, 1, 5, 39, 40, 42, 43, 127, 128, 200, 6000, 20000]);
    return Array.from({ length: Math.min(length, 1 + int(length + 1)) }, () => [...alphabet][int([...alphabet].length)]).join('');
  };
  const int64 = () =>
    pick([
      '0',
      '-1',
      '1',
      '127',
      '128',
      '-9223372036854775808',
      '9223372036854775807',
      String(int(2 ** 31)),
      `-${int(2 ** 50)}`,
      '562949953421312',
      '999999999999999',
      '1000000000000000',
      '-9007199254740993',
      String(int(2 ** 53)),
    ]);
  const uint64 = () =>
    pick([
      '0',
      '1',
      '18446744073709551615',
      '18446744073709551614',
      '1544712660500000000',
      String(int(2 ** 53)),
      '4294967296',
      '9007199254740993',
      '999999999999999',
      '1000000000000000',
      (BigInt(int(2 ** 32)) * 4294967296n + BigInt(int(2 ** 32))).toString(),
    ]);
  const value = (depth: number): AnyValue => {
    switch (int(depth > 2 ? 5 : 7)) {
      case 0:
        return { stringValue: text() };
      case 1:
        return { boolValue: random() < 0.5 };
      case 2:
        return { intValue: int64() };
      case 3:
        return { doubleValue: pick([0, -0, 1.5, -1e300, Number.NaN, Infinity, Number.MIN_VALUE]) };
      case 4:
        return pick([{}, { bytesValue: pick(['', 'AQID/w==', 'AAAA', 'YWI=']) }]);
      case 5:
        return { arrayValue: { values: Array.from({ length: int(3) }, () => value(depth + 1)) } };
      default:
        return { kvlistValue: { values: Array.from({ length: int(3) }, () => attribute(depth + 1)) } };
    }
  };
  const attribute = (depth = 0): KeyValue => (random() < 0.1 ? { key: text() } : { key: text(), value: value(depth) });
  const attributes = () => (random() < 0.3 ? undefined : Array.from({ length: int(6) }, () => attribute()));
  const count = () => pick([undefined, 0, 1, 300, 2 ** 32 - 1]);
  const maybe = <T>(v: T): T | undefined => (random() < 0.5 ? v : undefined);
  const span = (): Span => ({
    traceId: pick([hex(16), '', hex(16).toUpperCase()]),
    spanId: pick([hex(8), '']),
    traceState: maybe(text()),
    parentSpanId: maybe(hex(8)),
    flags: maybe(pick([0, 1, 0x301, 2 ** 32 - 1])),
    name: text(),
    kind: maybe(pick([0, 1, 2, 3, 4, 5, 9, -1])),
    startTimeUnixNano: uint64(),
    endTimeUnixNano: uint64(),
    attributes: attributes(),
    droppedAttributesCount: count(),
    events: maybe(
      Array.from({ length: int(3) }, () => ({
        timeUnixNano: maybe(uint64()),
        name: maybe(text()),
        attributes: attributes(),
        droppedAttributesCount: count(),
      })),
    ),
    droppedEventsCount: count(),
    links: maybe(
      Array.from({ length: int(3) }, () => ({
        traceId: hex(16),
        spanId: hex(8),
        traceState: maybe(text()),
        attributes: attributes(),
        droppedAttributesCount: count(),
        flags: maybe(1),
      })),
    ),
    droppedLinksCount: count(),
    status: maybe({ message: maybe(text()), code: maybe(pick([0, 1, 2, -3])) }),
  });
  return {
    resourceSpans: Array.from({ length: 1 + int(2) }, () => ({
      resource: maybe({ attributes: attributes(), droppedAttributesCount: count() }),
      schemaUrl: maybe(text()),
      scopeSpans: Array.from({ length: int(3) }, () => ({
        scope: maybe({ name: maybe(text()), version: maybe(text()), attributes: attributes(), droppedAttributesCount: count() }),
        schemaUrl: maybe(text()),
        spans: Array.from({ length: int(4) }, span),
      })),
    })),
  };
}

describe('hand-written traces protobuf encoder', () => {
  it('writes exactly the reflection codec bytes: real Claude Code captures', () => {
    let checked = 0;
    for (const c of traceCaptures('claude-code')) {
      if (c.content_type === 'application/json') expectSameBytes(decodeJson('traces', c.body.toString('utf8')));
      else expectSameBytes(decodeProtobuf('traces', c.body));
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('writes exactly the reflection codec bytes: random messages of every field, length and value range', () => {
    const random = prng(20261122);
    for (let i = 0; i < 300; i++) {
      const data = randomData(random);
      try {
        expectSameBytes(data);
      } catch (err) {
        throw new Error(`random message ${i}: ${(err as Error).message.slice(0, 500)}`);
      }
    }
  });

  it('round-trips through the decoder and leaves its input untouched', () => {
    const data = randomData(prng(7));
    const before = structuredClone(data);
    const bytes = encodeProtobuf('traces', data);
    expect(data).toStrictEqual(before);
    expect(encodeProtobuf('traces', decodeTracesWire(bytes))).toStrictEqual(bytes);
  });

  it('leaves values outside the model shape to the reflection path, which coerces or rejects them', () => {
    const span = (fields: Json): TracesData => ({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'ab'.repeat(16),
                  spanId: 'cd'.repeat(8),
                  name: 'n',
                  startTimeUnixNano: '1',
                  endTimeUnixNano: '2',
                  ...fields,
                } as Span,
              ],
            },
          ],
        },
      ],
    });
    const coerced: TracesData[] = [
      span({ kind: 'SPAN_KIND_SERVER' }),
      span({ startTimeUnixNano: 1_700_000_000_000 }),
      span({ attributes: [{ key: 'n', value: { intValue: 42 } }] }),
      span({ attributes: [{ key: 'b', value: { bytesValue: 'AQID' + '/w' } }] }),
      span({ spanId: 'not hex' }),
      span({ name: 7 }),
      span({ endTimeUnixNano: '18446744073709551616' }),
      span({ attributes: [{ key: 'n', value: { intValue: '9223372036854775808' } }] }),
    ];
    for (const data of coerced) {
      expect(encodeTracesWire(data)).toBeUndefined();
      expect(encodeProtobuf('traces', data)).toStrictEqual(reflectionEncode(data));
    }
    const rejected: TracesData[] = [span({ attributes: 'not a list' }), span({ status: 'ok' })];
    for (const data of rejected) {
      expect(encodeTracesWire(data)).toBeUndefined();
      expect(() => reflectionEncode(data)).toThrow();
      expect(() => encodeProtobuf('traces', data)).toThrow();
    }
    let deep: AnyValue = { stringValue: 'leaf' };
    for (let i = 0; i < 60; i++) deep = { arrayValue: { values: [deep] } };
    const tooDeep = span({ attributes: [{ key: 'deep', value: deep }] });
    expect(encodeTracesWire(tooDeep)).toBeUndefined();
    expect(() => encodeProtobuf('traces', tooDeep)).toThrow(/max depth exceeded/);
  });

  it('writes a lone surrogate as U+FFFD, so the bytes stay valid UTF-8 for the next decoder', () => {
    const data: TracesData = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'x\ud800y', startTimeUnixNano: '1', endTimeUnixNano: '2' }],
            },
          ],
        },
      ],
    };
    const bytes = encodeProtobuf('traces', data);
    expect(decodeTracesWire(bytes).resourceSpans![0]!.scopeSpans![0]!.spans![0]!.name).toBe('x\ufffdy');
    // The reflection path writes the surrogate's CESU-8 bytes there, which no decoder accepts.
    expect(() => decodeTracesWire(reflectionEncode(data))).toThrow(/utf-8/);
  });
});
