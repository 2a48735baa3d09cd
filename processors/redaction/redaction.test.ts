import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { KeyValue, Span, TracesData } from '../../core/otlp/model.ts';
import { attributesToMap, toAnyValue, type AttributeValue } from '../../core/otlp/attributes.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { redactionProcessorFactory } from './index.ts';
import { KEY_FILE } from './pseudonym.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const KEY = 'test-pseudonym-key-0123456789';

function processor(raw: Record<string, unknown> = {}, dataDir = mkdtempSync(path.join(tmpdir(), 'redaction-'))) {
  const config = redactionProcessorFactory.parseConfig(new Fields(raw, 'processors.redaction'));
  const context = { id: 'redaction', dataDir, configDir: '.', metrics: new MetricsRegistry(), recentOutput: async function* () {} };
  return redactionProcessorFactory.create(config, context);
}

const attrs = (o: Record<string, AttributeValue>): KeyValue[] => Object.entries(o).map(([key, v]) => ({ key, value: toAnyValue(v) }));

function traces(spans: Partial<Span>[], resource: Record<string, AttributeValue> = {}): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: attrs(resource) },
        scopeSpans: [
          {
            spans: spans.map((s, i) => ({ traceId: TRACE, spanId: `00000000000000${String(i + 1).padStart(2, '0')}`, name: 'span', startTimeUnixNano: '1', endTimeUnixNano: '2', ...s })),
          },
        ],
      },
    ],
  };
}

const spansOf = (data: TracesData) => [...eachSpan(data)].map((c) => c.span);
const attrMap = (span: Span) => attributesToMap(span.attributes);

const CONTENT = {
  'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
  'gen_ai.output.messages': 'hello',
  'gen_ai.system_instructions': 'be nice',
  'gen_ai.tool.call.arguments': '{"command":"ls /home/jane"}',
  'gen_ai.tool.call.result': 'AKIAIOSFODNN7EXAMPLE',
  'gen_ai.request.model': 'claude-sonnet-4-5',
};

describe('redaction processor', () => {
  it('tier 1 keeps metadata only', async () => {
    const [span] = spansOf(await processor({ tier: 1 }).processTraces(traces([{ attributes: attrs(CONTENT) }])));
    expect(attrMap(span!)).toEqual({
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'agentotel.redaction.tier': '1',
      'agentotel.redaction.count': '0',
      'agentotel.redaction.dropped': '5',
    });
  });

  it('tier 2 (the default) keeps tool details, scanned, and drops prompts and responses', async () => {
    const [span] = spansOf(await processor().processTraces(traces([{ attributes: attrs(CONTENT) }])));
    expect(attrMap(span!)).toEqual({
      'gen_ai.tool.call.arguments': '{"command":"ls ~"}',
      'gen_ai.tool.call.result': '[REDACTED:aws_access_key]',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'agentotel.redaction.tier': '2',
      'agentotel.redaction.count': '2',
      'agentotel.redaction.kinds': 'aws_access_key:1,home_path:1',
      'agentotel.redaction.dropped': '3',
    });
  });

  it('tier 3 keeps all content, scanned', async () => {
    const [span] = spansOf(await processor({ tier: 3 }).processTraces(traces([{ attributes: attrs(CONTENT) }])));
    expect(Object.keys(attrMap(span!))).toEqual([...Object.keys(CONTENT), 'agentotel.redaction.tier', 'agentotel.redaction.count', 'agentotel.redaction.kinds']);
    expect(attrMap(span!)['agentotel.redaction.dropped']).toBeUndefined();
  });

  it('extends the content keys from config, prefixes included', async () => {
    const p = processor({ tier: 2, content_keys: ['llm.prompts.*', 'chat.transcript'], tool_detail_keys: ['mcp.arguments'] });
    const [span] = spansOf(await p.processTraces(traces([{ attributes: attrs({ 'llm.prompts.0.content': 'a', 'chat.transcript': 'b', 'mcp.arguments': 'c', other: 'd' }) }])));
    expect(attrMap(span!)).toMatchObject({ 'mcp.arguments': 'c', other: 'd', 'agentotel.redaction.dropped': '2' });
    expect(attrMap(span!)['chat.transcript']).toBeUndefined();
  });

  it('scans event attributes, link attributes, nested values, span name and status message', async () => {
    const input = traces([
      {
        name: 'GET /home/jane/x',
        status: { code: 2, message: 'auth failed for jane@example.com' },
        events: [{ name: 'tool.output', attributes: attrs({ output: 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }) }],
        links: [{ traceId: TRACE, spanId: '00000000000000ff', attributes: attrs({ note: 'token=abc123456' }) }],
        attributes: [
          { key: 'list', value: { arrayValue: { values: [{ stringValue: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }, { intValue: '3' }] } } },
          { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'sk-ant-api03-abcdefghijklmnop' } }] } } },
        ],
      },
    ]);
    const [span] = spansOf(await processor().processTraces(input));
    expect(span!.name).toBe('GET ~/x');
    expect(span!.status).toEqual({ code: 2, message: 'auth failed for [REDACTED:email]' });
    expect(span!.events![0]!.attributes![0]!.value).toEqual({ stringValue: 'AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_key]' });
    expect(span!.links![0]!.attributes![0]!.value).toEqual({ stringValue: 'token=[REDACTED:secret]' });
    expect(span!.attributes![0]!.value).toEqual({ arrayValue: { values: [{ stringValue: '[REDACTED:github_token]' }, { intValue: '3' }] } });
    expect(span!.attributes![1]!.value).toEqual({ kvlistValue: { values: [{ key: 'k', value: { stringValue: '[REDACTED:anthropic_key]' } }] } });
    expect(attrMap(span!)['agentotel.redaction.kinds']).toBe('anthropic_key:1,aws_secret_key:1,email:1,github_token:1,home_path:1,secret:1');
    expect(attrMap(span!)['agentotel.redaction.count']).toBe('6');
  });

  it('pseudonymises user ids with the keyed HMAC, stably and idempotently, in resource and span', async () => {
    const p = processor({ pseudonymize: { key: KEY } });
    const input = traces([{ attributes: attrs({ 'user.id': 'u-42', 'enduser.id': 42 }) }], { 'user.email': 'jane@example.com', team: 'platform' });
    const out = await p.processTraces(input);
    const [{ span, resource }] = [...eachSpan(out)];
    const r = attributesToMap(resource!.attributes);
    expect(r['user.email']).toMatch(/^anon_[0-9a-f]{32}$/);
    expect(r.team).toBe('platform');
    expect(attrMap(span)['user.id']).toMatch(/^anon_[0-9a-f]{32}$/);
    expect(attrMap(span)['enduser.id']).toMatch(/^anon_[0-9a-f]{32}$/);
    // Same key, same pseudonym; the output run through again is unchanged.
    const again = await processor({ pseudonymize: { key: KEY } }).processTraces(out);
    expect(attrMap(spansOf(again)[0]!)['user.id']).toBe(attrMap(span)['user.id']);
    // Another key, another pseudonym.
    const other = await processor({ pseudonymize: { key: 'another-key-0123456789' } }).processTraces(input);
    expect(attrMap(spansOf(other)[0]!)['user.id']).not.toBe(attrMap(span)['user.id']);
    expect(JSON.stringify(out)).not.toContain('jane@example.com');
  });

  it('keeps a generated pseudonym key in the data directory when none is configured', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'redaction-key-'));
    const first = await processor({}, dir).processTraces(traces([{ attributes: attrs({ 'user.id': 'u-42' }) }]));
    const key = readFileSync(path.join(dir, KEY_FILE), 'utf8');
    expect(key.trim()).toMatch(/^[0-9a-f]{64}$/);
    const second = await processor({}, dir).processTraces(traces([{ attributes: attrs({ 'user.id': 'u-42' }) }]));
    expect(attrMap(spansOf(second)[0]!)['user.id']).toBe(attrMap(spansOf(first)[0]!)['user.id']);
  });

  it('redacts a value learned from context wherever the trace repeats it, also in later messages', async () => {
    const p = processor({ tier: 3 });
    const first = await p.processTraces(
      traces([
        { attributes: attrs({ response: 'the password is in the URL: Sup3rS3cretPassw0rd' }) },
        { attributes: attrs({ output: 'DATABASE_URL=postgres://billing:Sup3rS3cretPassw0rd@db/billing' }) },
      ]),
    );
    const [a, b] = spansOf(first);
    expect(attrMap(a!).response).toBe('the password is in the URL: [REDACTED:url_credentials]');
    expect(attrMap(b!).output).toBe('DATABASE_URL=postgres://billing:[REDACTED:url_credentials]@db/billing');
    const later = await p.processTraces(traces([{ attributes: attrs({ note: 'rotate Sup3rS3cretPassw0rd' }) }]));
    expect(attrMap(spansOf(later)[0]!)).toMatchObject({ note: 'rotate [REDACTED:url_credentials]', 'agentotel.redaction.kinds': 'url_credentials:1' });
  });

  it('leaves its input untouched (a bus redelivers the same object after a failure)', async () => {
    const input = traces([{ attributes: attrs(CONTENT), events: [{ name: 'e', attributes: attrs({ output: 'jane@example.com' }) }] }], { 'user.id': 'u' });
    const before = structuredClone(input);
    const p = processor({ pseudonymize: { key: KEY } });
    const first = await p.processTraces(input);
    expect(input).toEqual(before);
    expect(await p.processTraces(input)).toEqual(first);
  });
});
