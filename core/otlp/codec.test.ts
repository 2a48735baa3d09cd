import { describe, expect, it } from 'vitest';
import { decodeJson, decodeProtobuf, encodeProtobuf, OtlpDecodeError } from './codec.ts';
import { eachSpan, countSpans, splitByTrace, filterSpans } from './traces.ts';
import { getString } from './attributes.ts';
import { otlpCaptures } from '../../test/helpers/fixtures.ts';

const jsonRequest = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
      scopeSpans: [
        {
          scope: { name: 'scope', version: '1' },
          spans: [
            {
              traceId: '5B8EFFF798038103D269B633813FC60C',
              spanId: 'eee19b7ec3c1b174',
              parentSpanId: 'eee19b7ec3c1b173',
              name: 'op',
              kind: 2,
              startTimeUnixNano: '1544712660000000001',
              endTimeUnixNano: 1544712661000000000,
              attributes: [
                { key: 'i', value: { intValue: 9007199254740993 } },
                { key: 's', value: { intValue: '9007199254740993' } },
                { key: 'b', value: { bytesValue: 'AQI=' } },
                { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }, { boolValue: true }] } } },
              ],
              events: [{ timeUnixNano: '1544712660500000000', name: 'ev', attributes: [{ key: 'k', value: { doubleValue: 1.5 } }] }],
              links: [{ traceId: '00000000000000000000000000000001', spanId: '0000000000000002' }],
              status: { code: 2, message: 'boom' },
            },
          ],
        },
      ],
    },
  ],
};

describe('OTLP codec', () => {
  it('decodes OTLP/JSON into the model: hex ids lowercased, int64 as strings, bytes base64', () => {
    const data = decodeJson('traces', JSON.stringify(jsonRequest));
    const span = data.resourceSpans![0]!.scopeSpans![0]!.spans![0]!;
    expect(span.traceId).toBe('5b8efff798038103d269b633813fc60c');
    expect(span.parentSpanId).toBe('eee19b7ec3c1b173');
    expect(span.startTimeUnixNano).toBe('1544712660000000001');
    expect(span.attributes![1]!.value).toEqual({ intValue: '9007199254740993' });
    expect(span.attributes![2]!.value).toEqual({ bytesValue: 'AQI=' });
    expect(span.links![0]).toMatchObject({ traceId: '00000000000000000000000000000001', spanId: '0000000000000002' });
    expect(span.status).toEqual({ code: 2, message: 'boom' });
  });

  it('round-trips the model through protobuf unchanged', () => {
    const data = decodeJson('traces', JSON.stringify(jsonRequest));
    const before = JSON.stringify(data);
    const bytes = encodeProtobuf('traces', data);
    expect(JSON.stringify(data)).toBe(before); // encoding does not disturb the model
    expect(decodeProtobuf('traces', bytes)).toEqual(data);
  });

  it('decodes real Claude Code captures of every signal', () => {
    const captures = otlpCaptures('claude-code/b-multi-step');
    const traces = captures.filter((c) => c.signal === 'traces').map((c) => decodeProtobuf('traces', c.body));
    expect(traces.reduce((n, t) => n + countSpans(t), 0)).toBeGreaterThan(0);
    const names = new Set([...eachSpan(traces[0]!)].map((s) => s.span.name));
    expect([...names].some((n) => n.startsWith('claude_code.'))).toBe(true);
    for (const c of captures.filter((c) => c.signal !== 'traces')) {
      const decoded = decodeProtobuf(c.signal, c.body);
      expect(decodeProtobuf(c.signal, encodeProtobuf(c.signal, decoded))).toEqual(decoded);
    }
    const logs = decodeProtobuf('logs', captures.find((c) => c.signal === 'logs')!.body);
    expect(getString(logs.resourceLogs![0]!.resource!.attributes, 'service.name')).toBe('claude-code');
  });

  it.each([
    ['not JSON', '{"resourceSpans": [', /invalid JSON/],
    ['not an object', '[1,2]', /must be a JSON object/],
    ['wrong structure', '{"resourceSpans":"x"}', /resourceSpans: array expected/],
    [
      'non-hex id',
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"xyz"}]}]}]}',
      /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.spanId: expected a hex string/,
    ],
  ])('rejects bad OTLP/JSON (%s) with a precise error', (_, text, message) => {
    expect(() => decodeJson('traces', text)).toThrow(OtlpDecodeError);
    expect(() => decodeJson('traces', text)).toThrow(message);
  });

  it('rejects truncated and garbage protobuf', () => {
    const bytes = encodeProtobuf('traces', decodeJson('traces', JSON.stringify(jsonRequest)));
    expect(() => decodeProtobuf('traces', bytes.subarray(0, bytes.length - 7))).toThrow(OtlpDecodeError);
    expect(() => decodeProtobuf('traces', Buffer.from('not protobuf at all'))).toThrow(/invalid OTLP protobuf traces request/);
  });

  it('splits a request per trace and filters spans, keeping resources and scopes', () => {
    const data = decodeJson('traces', JSON.stringify(jsonRequest));
    const second = structuredClone(data.resourceSpans![0]!.scopeSpans![0]!.spans![0]!);
    second.traceId = 'aa'.repeat(16);
    data.resourceSpans![0]!.scopeSpans![0]!.spans!.push(second);
    const parts = splitByTrace(data);
    expect([...parts.keys()]).toEqual(['5b8efff798038103d269b633813fc60c', 'aa'.repeat(16)]);
    for (const part of parts.values()) {
      expect(countSpans(part)).toBe(1);
      expect(part.resourceSpans![0]!.resource).toBe(data.resourceSpans![0]!.resource);
      expect(part.resourceSpans![0]!.scopeSpans![0]!.scope).toEqual({ name: 'scope', version: '1' });
    }
    expect(countSpans(filterSpans(data, (s) => s.traceId.startsWith('aa')))).toBe(1);
    expect(filterSpans(data, () => false).resourceSpans).toEqual([]);
  });
});
