/**
 * The real Claude Code session of fixture g-secrets, every capture path of it as the pipeline
 * sees it: each hook payload through the hooks converter, each transcript line through the
 * transcript parser, each OTLP request through the OTel converter (its spans and the records
 * and spans it passes on unchanged), then the redaction processor. At every tier, none of the
 * secrets the MANIFEST lists may survive anywhere in the output.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capturesToTraces, type SessionCapture } from '../../core/agent/session-spans.ts';
import { Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { attributesToMap } from '../../core/otlp/attributes.ts';
import { decodeJson, decodeProtobuf } from '../../core/otlp/codec.ts';
import type { LogRecord, LogsData, Span, TracesData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { claudeCodeHooks } from '../../receivers/hooks/claude-code.ts';
import { ClaudeCodeTelemetry } from '../../receivers/otlp/agents/claude-code.ts';
import { claudeCodeFormat } from '../../receivers/transcripts/claude-code.ts';
import { fixturesDir, otlpCaptures } from '../../test/helpers/fixtures.ts';
import { redactionProcessorFactory } from './index.ts';
import type { RedactionProcessor } from './processor.ts';

const SCENARIO = 'claude-code/g-secrets';
const DIR = path.join(fixturesDir, SCENARIO);
const read = (file: string) => readFileSync(path.join(DIR, file), 'utf8');

/** The planted secrets the MANIFEST describes, as the session shows them. */
const SECRETS = [
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000',
  'sk-ant-api03-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE-FAKEFAKEAA',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkZha2UgVXNlciIsImlhdCI6MTUxNjIzOTAyMn0.FAKEsignatureFAKEsignatureFAKEsignature00',
  'Sup3rS3cretPassw0rd',
  'jane.doe@example.com',
  'ops-oncall@example.com',
];
/** The body of the "PEM private key" the MANIFEST lists: keys/deploy_key.pem, as the session's Read of it returned it. */
const PEM_LINES = (
  JSON.parse(read('hooks/09-PostToolUse.json')) as { tool_response: { file: { content: string } } }
).tool_response.file.content
  .split('\n')
  .filter((l) => /^[A-Za-z0-9+/=]{16,}$/.test(l));
/** The home directory of the session's user (HOME=/home/dev), as paths and as Claude Code's project directory name. */
const HOME = ['/home/dev', '-home-dev-'];
/** Pieces of each of them, so that a partly redacted secret fails too. */
const NEEDLES = [...[...SECRETS, ...PEM_LINES].flatMap((s) => [s, s.slice(0, 16), s.slice(-16)]), ...HOME];

interface PipelineInput {
  traces: TracesData[];
  logs: LogsData[];
}

/** Every capture path of the session through its converter, in the pipeline's message shapes. */
function converted(): PipelineInput {
  const traces: TracesData[] = [];
  const logs: LogsData[] = [];
  const asTraces = (captures: SessionCapture[]) => traces.push(capturesToTraces(captures));

  const hooks = readdirSync(path.join(DIR, 'hooks')).sort();
  hooks.forEach((file, i) =>
    asTraces([
      claudeCodeHooks.toCapture(
        JSON.parse(read(`hooks/${file}`)) as Record<string, unknown>,
        1_795_305_424_000_000_000n + BigInt(i) * 1_000_000n,
      ),
    ]),
  );

  for (const file of readdirSync(path.join(DIR, 'transcripts'), { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.jsonl'),
  )) {
    const full = path.join(DIR, 'transcripts', file);
    const parser = claudeCodeFormat.createParser(full);
    for (const line of readFileSync(full, 'utf8').split('\n')) asTraces(parser.parseLine(line));
  }

  const telemetry = new ClaudeCodeTelemetry();
  for (const c of otlpCaptures(SCENARIO)) {
    if (c.signal === 'metrics') continue;
    const data = c.content_type === 'application/json' ? decodeJson(c.signal, c.body.toString('utf8')) : decodeProtobuf(c.signal, c.body);
    if (c.signal === 'logs') {
      for (const rl of (data as LogsData).resourceLogs ?? []) {
        const out = telemetry.logs(rl);
        asTraces(out.captures);
        const rest: LogRecord[] = out.rest;
        if (rest.length > 0) logs.push({ resourceLogs: [{ resource: rl.resource, scopeLogs: [{ logRecords: rest }] }] });
      }
    } else {
      for (const rs of (data as TracesData).resourceSpans ?? []) {
        const out = telemetry.spans(rs);
        asTraces(out.captures);
        const rest: Span[] = out.rest;
        if (rest.length > 0) traces.push({ resourceSpans: [{ resource: rs.resource, scopeSpans: [{ spans: rest }] }] });
      }
    }
  }
  return { traces, logs };
}

function processor(tier: number): RedactionProcessor {
  const config = redactionProcessorFactory.parseConfig(new Fields({ tier }, 'processors.redaction'));
  return redactionProcessorFactory.create(config, {
    id: 'redaction',
    dataDir: mkdtempSync(path.join(tmpdir(), 'redaction-')),
    configDir: '.',
    metrics: new MetricsRegistry(),
    recentOutput: async function* () {},
  }) as RedactionProcessor;
}

function run(tier: number, input: PipelineInput) {
  const p = processor(tier);
  return { traces: input.traces.map((t) => p.processTraces(t)), logs: input.logs.map((l) => p.processLogs(l)) };
}

const spansIn = (traces: TracesData[]) => traces.flatMap((t) => [...eachSpan(t)].map((c) => c.span));

describe('redaction of the g-secrets session, every capture path through its converter', () => {
  const input = converted();

  it('the MANIFEST names the secrets, and the converted session holds every one of them', () => {
    const manifest = read('MANIFEST.md') + read('facts.json');
    for (const secret of SECRETS) expect(manifest, secret).toContain(secret);
    expect(manifest).toContain('PEM private key');
    expect(PEM_LINES).toHaveLength(3);
    const all = JSON.stringify(input);
    for (const needle of NEEDLES) expect(all, needle).toContain(needle);
    // What does not go through the processor holds none of them.
    const metrics = otlpCaptures(SCENARIO)
      .find((c) => c.signal === 'metrics')!
      .body.toString('utf8');
    for (const needle of NEEDLES) expect(metrics, needle).not.toContain(needle);
  });

  it.each([1, 2, 3])('at tier %i no secret survives anywhere, and every span and record says its tier', (tier) => {
    const output = run(tier, input);
    const all = JSON.stringify(output);
    for (const needle of NEEDLES) expect(all, needle).not.toContain(needle);
    const spans = spansIn(output.traces);
    expect(spans.length).toBeGreaterThan(50);
    for (const span of spans) expect(attributesToMap(span.attributes)['agentotel.redaction.tier']).toBe(String(tier));
    for (const record of output.logs.flatMap((l) => l.resourceLogs!.flatMap((rl) => rl.scopeLogs!.flatMap((sl) => sl.logRecords!)))) {
      expect(attributesToMap(record.attributes)['agentotel.redaction.tier']).toBe(String(tier));
    }
  });

  it('at tier 3 the content stays, with the secrets replaced by their kind and counted on the span', () => {
    const spans = spansIn(run(3, input).traces);
    const bash = spans.find(
      (s) =>
        attributesToMap(s.attributes)['gen_ai.tool.call.id'] === 'toolu_01G1cat' &&
        attributesToMap(s.attributes)['gen_ai.tool.call.result'],
    )!;
    const result = attributesToMap(bash.attributes)['gen_ai.tool.call.result'];
    expect(result).toContain(
      'AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key]\\nAWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_key]\\nANTHROPIC_API_KEY=[REDACTED:anthropic_key]\\nSESSION_JWT=[REDACTED:jwt]\\nDATABASE_URL=postgres://billing:[REDACTED:url_credentials]@db',
    );
    expect(attributesToMap(bash.attributes)['agentotel.redaction.kinds']).toMatch(
      /anthropic_key:1,aws_access_key:1,aws_secret_key:1,email:1,jwt:1,url_credentials:1/,
    );
    const prompt = spans.find((s) => attributesToMap(s.attributes)['gen_ai.input.messages']?.includes('may have leaked'))!;
    expect(attributesToMap(prompt.attributes)['gen_ai.input.messages']).toContain(
      'Our AWS key [REDACTED:aws_access_key] and my GitHub token [REDACTED:github_token] may have leaked',
    );
  });

  it('below tier 3 no prompt, response or tool output remains; tier 2 keeps the tool arguments', () => {
    for (const tier of [1, 2]) {
      const spans = spansIn(run(tier, input).traces);
      const keys = new Set(
        spans.flatMap((s) => [...(s.attributes ?? []), ...(s.events ?? []).flatMap((e) => e.attributes ?? [])].map((kv) => kv.key)),
      );
      for (const key of [
        'gen_ai.input.messages',
        'gen_ai.output.messages',
        'gen_ai.tool.call.result',
        'user_prompt',
        'output',
        'content',
      ]) {
        expect(keys.has(key), `${key} at tier ${tier}`).toBe(false);
      }
      expect(keys.has('gen_ai.tool.call.arguments')).toBe(tier === 2);
      expect(JSON.stringify(spans)).not.toContain('Rotate all of these');
    }
  });
});
