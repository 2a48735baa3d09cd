/**
 * The real secrets a Claude Code session leaks (fixture g-secrets: prompt, tool output,
 * assistant text, hooks, transcript, OTLP logs and traces) go through the processor at
 * tier 3 (full content kept): none of the planted values may survive.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { KeyValue, LogsData, Span, TracesData } from '../../core/otlp/model.ts';
import { attributesToMap } from '../../core/otlp/attributes.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { redactionProcessorFactory } from './index.ts';

const FIXTURE = '/work/shared/fixtures/claude-code/g-secrets';
const read = (file: string) => readFileSync(path.join(FIXTURE, file), 'utf8');

const PLANTED = [
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000',
  'sk-ant-api03-FAKEFAKE',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9',
  'FAKEsignatureFAKEsignature',
  'Sup3rS3cretPassw0rd',
  'MIIEFAKEFAKE',
  'THISISNOTAREALKEY',
  'jane.doe@example.com',
  'ops-oncall@example.com',
  '/home/dev',
];

const traces = JSON.parse(read('otlp/03-traces.json')) as TracesData;
const traceId = [...eachSpan(traces)][0]!.span.traceId;

function span(name: string, attributes: KeyValue[], n: number): Span {
  return { traceId, spanId: n.toString(16).padStart(16, '0'), name, startTimeUnixNano: '1', endTimeUnixNano: '2', attributes };
}
const message = (spans: Span[]): TracesData => ({ resourceSpans: [{ resource: traces.resourceSpans![0]!.resource, scopeSpans: [{ spans }] }] });
const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** Every source of the capture as bus messages of the session's trace, in arrival order. */
function fixtureMessages(): TracesData[] {
  let n = 1;
  const logs = ['otlp/01-logs.json', 'otlp/02-logs.json'].map((file) => {
    const data = JSON.parse(read(file)) as LogsData;
    const records = data.resourceLogs!.flatMap((rl) => rl.scopeLogs!.flatMap((sl) => sl.logRecords!));
    return message(records.map((r) => span(r.body?.stringValue ?? 'log', r.attributes ?? [], n++)));
  });
  const hooks = readdirSync(path.join(FIXTURE, 'hooks')).map((file) => {
    const payload = JSON.parse(read(`hooks/${file}`)) as Record<string, unknown>;
    return message([span(file, Object.entries(payload).map(([k, v]) => str(k, typeof v === 'string' ? v : JSON.stringify(v))), n++)]);
  });
  const transcriptFile = readdirSync(path.join(FIXTURE, 'transcripts')).find((f) => f.endsWith('.jsonl'))!;
  const transcript = read(`transcripts/${transcriptFile}`)
    .split('\n')
    .filter(Boolean)
    .map((line) => message([span('transcript record', [str('record', line)], n++)]));
  return [...logs, traces, ...hooks, ...transcript, message([span('cli result', [str('result', read('cli-result-1.json'))], n++)])];
}

function processor(tier: number) {
  const config = redactionProcessorFactory.parseConfig(new Fields({ tier }, 'processors.redaction'));
  return redactionProcessorFactory.create(config, {
    id: 'redaction',
    dataDir: mkdtempSync(path.join(tmpdir(), 'redaction-')),
    configDir: '.',
    metrics: new MetricsRegistry(),
    recentOutput: async function* () {},
  });
}

describe('redaction of the g-secrets capture', () => {
  const inputs = fixtureMessages();

  it('the capture really holds every planted secret', () => {
    const all = JSON.stringify(inputs);
    for (const secret of PLANTED) expect(all, secret).toContain(secret);
  });

  it('at tier 3 none of the planted secrets survives, and every span says what was redacted', async () => {
    const p = processor(3);
    const outputs: TracesData[] = [];
    for (const m of inputs) outputs.push(await p.processTraces(m));
    const all = JSON.stringify(outputs);
    for (const secret of PLANTED) expect(all, secret).not.toContain(secret);

    const tool = [...eachSpan(outputs[2]!)].map((c) => c.span).find((s) => s.events?.some((e) => e.name === 'tool.output'))!;
    expect(attributesToMap(tool.events!.find((e) => e.name === 'tool.output')!.attributes).output).toContain(
      'AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key]\nAWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_key]\nANTHROPIC_API_KEY=[REDACTED:anthropic_key]\nSESSION_JWT=[REDACTED:jwt]\nDATABASE_URL=postgres://billing:[REDACTED:url_credentials]@db',
    );
    expect(attributesToMap(tool.attributes)['agentotel.redaction.kinds']).toBe('anthropic_key:1,aws_access_key:1,aws_secret_key:1,email:1,jwt:1,url_credentials:1');
    // The counts name kinds, never values.
    for (const { span } of outputs.flatMap((o) => [...eachSpan(o)])) {
      expect(attributesToMap(span.attributes)['agentotel.redaction.tier']).toBe('3');
    }
  });

  it('at tier 2 the prompt is dropped and the tool output is kept, scanned', async () => {
    const out = await processor(2).processTraces(traces);
    const spans = [...eachSpan(out)].map((c) => c.span);
    const interaction = spans.find((s) => s.name === 'claude_code.interaction')!;
    expect(attributesToMap(interaction.attributes).user_prompt).toBeUndefined();
    expect(attributesToMap(interaction.attributes)['agentotel.redaction.dropped']).toBe('1');
    const read = spans.find((s) => attributesToMap(s.attributes).tool_name === 'Read')!;
    expect(attributesToMap(read.events![0]!.attributes).content).toBe('[REDACTED:private_key]\n');
    expect(attributesToMap(read.attributes).file_path).toBe('~/projects/deploy-scripts/keys/deploy_key.pem');
  });
});
