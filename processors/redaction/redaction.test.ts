import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { KeyValue, LogsData, Span, TracesData } from '../../core/otlp/model.ts';
import { attributesToMap, toAnyValue, type AttributeValue } from '../../core/otlp/attributes.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { redactionProcessorFactory } from './index.ts';
import { RedactionInputError, type RedactionProcessor } from './processor.ts';
import { KEY_FILE } from '../../core/pseudonym.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const KEY = 'test-pseudonym-key-0123456789';

function processor(
  raw: Record<string, unknown> = {},
  dataDir = mkdtempSync(path.join(tmpdir(), 'redaction-')),
  metrics = new MetricsRegistry(),
) {
  const config = redactionProcessorFactory.parseConfig(new Fields(raw, 'processors.redaction'));
  const context = { id: 'redaction', dataDir, configDir: '.', metrics, recentOutput: async function* () {} };
  return redactionProcessorFactory.create(config, context) as RedactionProcessor;
}

const attrs = (o: Record<string, AttributeValue>): KeyValue[] => Object.entries(o).map(([key, v]) => ({ key, value: toAnyValue(v) }));

function traces(spans: Partial<Span>[], resource: Record<string, AttributeValue> = {}, traceId = TRACE): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: attrs(resource) },
        scopeSpans: [
          {
            spans: spans.map((s, i) => ({
              traceId,
              spanId: `00000000000000${String(i + 1).padStart(2, '0')}`,
              name: 'span',
              startTimeUnixNano: '1',
              endTimeUnixNano: '2',
              ...s,
            })),
          },
        ],
      },
    ],
  };
}

const spansOf = (data: TracesData) => [...eachSpan(data)].map((c) => c.span);
const attrMap = (span: Span) => attributesToMap(span.attributes);
const tierOf = async (p: RedactionProcessor, data: TracesData) =>
  spansOf(await p.processTraces(data)).map((s) => attrMap(s)['agentotel.redaction.tier']);

const CONTENT = {
  'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
  'gen_ai.output.messages': 'hello',
  'gen_ai.system_instructions': 'be nice',
  'gen_ai.tool.call.arguments': '{"command":"ls /home/jane"}',
  'gen_ai.tool.call.result': 'AKIAIOSFODNN7EXAMPLE',
  'gen_ai.request.model': 'claude-sonnet-4-5',
};

describe('privacy tiers', () => {
  it('tier 1 keeps metadata only', async () => {
    const [span] = spansOf(await processor({ tier: 1 }).processTraces(traces([{ attributes: attrs(CONTENT) }])));
    expect(attrMap(span!)).toEqual({
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'agentotel.redaction.tier': '1',
      'agentotel.redaction.count': '0',
      'agentotel.redaction.dropped': '5',
    });
  });

  it('tier 2 (the default) adds the tool arguments, scanned, and drops prompts, responses and tool output', async () => {
    const [span] = spansOf(await processor().processTraces(traces([{ attributes: attrs(CONTENT) }])));
    expect(attrMap(span!)).toEqual({
      'gen_ai.tool.call.arguments': '{"command":"ls ~"}',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'agentotel.redaction.tier': '2',
      'agentotel.redaction.count': '1',
      'agentotel.redaction.kinds': 'home_path:1',
      'agentotel.redaction.dropped': '4',
    });
  });

  it('tier 3 keeps all content, scanned', async () => {
    const [span] = spansOf(await processor({ tier: 3 }).processTraces(traces([{ attributes: attrs(CONTENT) }])));
    expect(attrMap(span!)).toMatchObject({
      'gen_ai.tool.call.result': '[REDACTED:aws_access_key]',
      'agentotel.redaction.kinds': 'aws_access_key:1,home_path:1',
    });
    expect(attrMap(span!)['agentotel.redaction.dropped']).toBeUndefined();
  });

  it('applies to span events, links, nested maps and the resource, and drops a tool call’s error output below tier 3', async () => {
    const input = traces(
      [
        {
          attributes: [
            ...attrs({ 'gen_ai.operation.name': 'execute_tool' }),
            { key: 'details', value: { kvlistValue: { values: attrs({ prompt: 'secret plan', size: 3 }) } } },
          ],
          status: { code: 2, message: 'cat: /home/jane/.env: Permission denied' },
          events: [{ name: 'tool.output', attributes: attrs({ output: 'x', bash_command: 'cat .env', exit: 1 }) }],
          links: [{ traceId: TRACE, spanId: '00000000000000ff', attributes: attrs({ 'gen_ai.input.messages': 'hi' }) }],
        },
      ],
      { 'process.command_args': 'gemini -p "secret plan"', 'service.name': 'gemini-cli' },
    );
    const out = await processor({ tier: 1 }).processTraces(input);
    const [{ span, resource }] = [...eachSpan(out)];
    expect(span.status).toEqual({ code: 2 });
    expect(span.events![0]!.attributes).toEqual(attrs({ exit: 1 }));
    expect(span.links![0]!.attributes).toEqual([]);
    expect(span.attributes![1]).toEqual({ key: 'details', value: { kvlistValue: { values: attrs({ size: 3 }) } } });
    expect(attrMap(span)['agentotel.redaction.dropped']).toBe('5');
    expect(attributesToMap(resource!.attributes)).toEqual({
      'service.name': 'gemini-cli',
      'agentotel.redaction.count': '0',
      'agentotel.redaction.dropped': '1',
    });
    expect(JSON.stringify(out)).not.toContain('secret plan');
  });

  it('extends the content and tool detail keys from config, wildcards included', async () => {
    const p = processor({ tier: 2, content_keys: ['llm.prompts.*', 'chat.transcript'], tool_detail_keys: ['mcp.arguments'] });
    const [span] = spansOf(
      await p.processTraces(
        traces([{ attributes: attrs({ 'llm.prompts.0.content': 'a', 'chat.transcript': 'b', 'mcp.arguments': 'c', other: 'd' }) }]),
      ),
    );
    expect(attrMap(span!)).toMatchObject({ 'mcp.arguments': 'c', other: 'd', 'agentotel.redaction.dropped': '2' });
    expect(attrMap(span!)['chat.transcript']).toBeUndefined();
  });
});

describe('tiers per team, user and agent', () => {
  const RULES = {
    tier: 3,
    pseudonymize: { key: KEY },
    tier_rules: [
      { team: 'payments', tier: 1 },
      { user: 'ana@example.com', tier: 2 },
      { agent: 'gemini-cli', tier: 2 },
    ],
  };

  it('takes the first rule the span matches, by the resource or the span, else the default', async () => {
    const p = processor(RULES);
    expect(await tierOf(p, traces([{}], { team: 'payments', 'user.email': 'ana@example.com' }, 'a'.repeat(32)))).toEqual(['1']);
    expect(await tierOf(p, traces([{}], { team: 'research', 'user.email': 'ana@example.com' }, 'b'.repeat(32)))).toEqual(['2']);
    expect(
      await tierOf(
        p,
        traces(
          [{ attributes: attrs({ 'user.email': 'bo@example.com' }) }],
          { team: 'research', 'service.name': 'gemini-cli' },
          'c'.repeat(32),
        ),
      ),
    ).toEqual(['2']);
    expect(
      await tierOf(p, traces([{}], { team: 'research', 'user.email': 'bo@example.com', 'service.name': 'codex' }, 'd'.repeat(32))),
    ).toEqual(['3']);
  });

  it('matches a user already pseudonymised upstream', async () => {
    const p = processor(RULES);
    const once = await p.processTraces(
      traces([{}], { team: 'research', 'user.email': 'ana@example.com', 'service.name': 'codex' }, 'e'.repeat(32)),
    );
    expect(await tierOf(processor(RULES), once)).toEqual(['2']);
  });

  it('gives a span whose team is unknown the lowest tier of the rules it may fall under, until its trace names the team', async () => {
    const p = processor(RULES);
    const trace = 'f'.repeat(32);
    const anonymous = () => traces([{ attributes: attrs({ 'gen_ai.tool.call.result': 'out' }) }], { 'service.name': 'codex' }, trace);
    // A transcript view before any span of the session named its team: it may be payments'.
    expect(await tierOf(p, anonymous())).toEqual(['1']);
    await p.processTraces(traces([{}], { team: 'research', 'user.email': 'bo@example.com', 'service.name': 'codex' }, trace));
    expect(await tierOf(p, anonymous())).toEqual(['3']);
  });

  it('records the tier on every span of a message with spans of several tiers, and the resource gets the lowest', async () => {
    const p = processor(RULES);
    const input = traces(
      [{ attributes: attrs({ team: 'payments', prompt: 'a' }) }, { attributes: attrs({ team: 'research', prompt: 'b' }) }],
      {
        'user.email': 'bo@example.com',
        'service.name': 'codex',
        'process.command_args': 'codex exec "b"',
      },
    );
    const out = await p.processTraces(input);
    expect(spansOf(out).map((s) => [attrMap(s)['agentotel.redaction.tier'], attrMap(s).prompt])).toEqual([
      ['1', undefined],
      ['3', 'b'],
    ]);
    expect(attributesToMap([...eachSpan(out)][0]!.resource!.attributes)['process.command_args']).toBeUndefined();
  });
});

describe('redaction processor', () => {
  it('scans span and event names, event and link attributes, nested and bytes values, and the status message', async () => {
    const input = traces([
      {
        name: 'GET /home/jane/x',
        status: { code: 2, message: 'auth failed for jane@example.com' },
        events: [
          {
            name: 'UserPromptSubmit ghp_abcdefghijklmnopqrstuvwxyz0123456789',
            attributes: attrs({ note: 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }),
          },
        ],
        links: [{ traceId: TRACE, spanId: '00000000000000ff', attributes: attrs({ note: 'token=abc123456' }) }],
        attributes: [
          {
            key: 'list',
            value: { arrayValue: { values: [{ stringValue: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }, { intValue: '3' }] } },
          },
          { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'sk-ant-api03-abcdefghijklmnop' } }] } } },
          { key: 'raw', value: { bytesValue: Buffer.from('password=hunter22').toString('base64') } },
          { key: 'blob', value: { bytesValue: Buffer.from([0, 1, 2]).toString('base64') } },
        ],
      },
    ]);
    const [span] = spansOf(await processor().processTraces(input));
    expect(span!.name).toBe('GET ~/x');
    expect(span!.status).toEqual({ code: 2, message: 'auth failed for [REDACTED:email]' });
    expect(span!.events![0]!.name).toBe('UserPromptSubmit [REDACTED:github_token]');
    expect(span!.events![0]!.attributes![0]!.value).toEqual({ stringValue: 'AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_key]' });
    expect(span!.links![0]!.attributes![0]!.value).toEqual({ stringValue: 'token=[REDACTED:secret]' });
    expect(span!.attributes![0]!.value).toEqual({
      arrayValue: { values: [{ stringValue: '[REDACTED:github_token]' }, { intValue: '3' }] },
    });
    expect(span!.attributes![1]!.value).toEqual({
      kvlistValue: { values: [{ key: 'k', value: { stringValue: '[REDACTED:anthropic_key]' } }] },
    });
    expect(span!.attributes![2]!.value).toEqual({ stringValue: 'password=[REDACTED:password]' });
    expect(span!.attributes![3]!.value).toEqual({ bytesValue: 'AAEC' });
    expect(attrMap(span!)['agentotel.redaction.kinds']).toBe(
      'anthropic_key:1,aws_secret_key:1,email:1,github_token:2,home_path:1,password:1,secret:1',
    );
    expect(attrMap(span!)['agentotel.redaction.count']).toBe('8');
  });

  it('pseudonymises user ids with the keyed HMAC, stably and idempotently, in resource and span', async () => {
    const p = processor({ pseudonymize: { key: KEY } });
    const input = traces([{ attributes: attrs({ 'user.id': 'u-42', 'enduser.id': 42 }) }], {
      'user.email': 'jane@example.com',
      team: 'platform',
    });
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

  it('keeps a generated pseudonym key in the data directory when none (or an empty one) is configured', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'redaction-key-'));
    const first = await processor({ pseudonymize: { key: '' } }, dir).processTraces(traces([{ attributes: attrs({ 'user.id': 'u-42' }) }]));
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
    expect(attrMap(spansOf(later)[0]!)).toMatchObject({
      note: 'rotate [REDACTED:url_credentials]',
      'agentotel.redaction.kinds': 'url_credentials:1',
    });
  });

  it('leaves its input untouched (a bus redelivers the same object after a failure)', async () => {
    const input = traces([{ attributes: attrs(CONTENT), events: [{ name: 'e', attributes: attrs({ output: 'jane@example.com' }) }] }], {
      'user.id': 'u',
    });
    const before = structuredClone(input);
    const p = processor({ pseudonymize: { key: KEY } });
    const first = await p.processTraces(input);
    expect(input).toEqual(before);
    expect(await p.processTraces(input)).toEqual(first);
  });

  it('redacts log records: attributes by tier, body, resource; the tier and counts on each record', async () => {
    const logs: LogsData = {
      resourceLogs: [
        {
          resource: { attributes: attrs({ 'service.name': 'gemini-cli', 'user.email': 'jane@example.com' }) },
          scopeLogs: [
            {
              logRecords: [
                {
                  body: { stringValue: 'gemini_cli.hook_call from /home/jane/app' },
                  attributes: attrs({ hook_input: '{"prompt":"x"}', request_text: 'hi', duration_ms: 3, note: 'key AKIAIOSFODNN7EXAMPLE' }),
                },
              ],
            },
          ],
        },
      ],
    };
    const out = processor({ tier: 2, pseudonymize: { key: KEY } }).processLogs(logs);
    const record = out.resourceLogs![0]!.scopeLogs![0]!.logRecords![0]!;
    expect(record.body).toEqual({ stringValue: 'gemini_cli.hook_call from ~/app' });
    expect(attributesToMap(record.attributes)).toEqual({
      duration_ms: '3',
      note: 'key [REDACTED:aws_access_key]',
      'agentotel.redaction.tier': '2',
      'agentotel.redaction.count': '2',
      'agentotel.redaction.kinds': 'aws_access_key:1,home_path:1',
      'agentotel.redaction.dropped': '2',
    });
    expect(JSON.stringify(out)).not.toContain('jane');
  });

  it('counts by tier and kind in its metrics, never a value', async () => {
    const metrics = new MetricsRegistry();
    await processor({ tier: 2 }, undefined, metrics).processTraces(
      traces([{ attributes: attrs({ ...CONTENT, note: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }) }]),
    );
    const text = metrics.render();
    expect(text).toContain('agentotel_redaction_items_total{tier="2"} 1');
    expect(text).toContain('agentotel_redaction_redactions_total{kind="github_token"} 1');
    expect(text).toContain('agentotel_redaction_dropped_attributes_total{tier="2"} 4');
    expect(text).not.toContain('ghp_');
  });

  it('refuses a value it cannot walk with an error naming the span and the key, never a value', async () => {
    const input = traces([
      {
        spanId: '00000000000000aa',
        attributes: [
          ...attrs({ output: 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }),
          { key: 'note ghp_abcdefghijklmnopqrstuvwxyz0123456789', value: { stringValue: 42 as unknown as string } },
        ],
      },
    ]);
    const failure = (() => {
      try {
        processor({ tier: 3 }).processTraces(input);
      } catch (err) {
        return err as Error;
      }
    })();
    expect(failure).toBeInstanceOf(RedactionInputError);
    expect(failure!.message).toBe('span 00000000000000aa: attribute "note [REDACTED:github_token]": stringValue is not a string');
  });
});
