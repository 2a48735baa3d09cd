import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { modelCallView, sessionView, toolCallView } from '../../core/agent/genai.ts';
import { agentSpanId, capturesToTraces, sessionTraceId, type SessionCapture, type SpanView } from '../../core/agent/session-spans.ts';
import type { PublishedMessage } from '../../core/component.ts';
import { ConfigError, Fields } from '../../core/config/fields.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { Pseudonymizer } from '../../core/pseudonym.ts';
import { attributesToMap, type AttributeValue } from '../../core/otlp/attributes.ts';
import type { TracesData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import type { EnrichmentProcessor } from './processor.ts';
import { enrichmentProcessorFactory } from './index.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const testdata = (name: string) => parse(readFileSync(path.join(here, 'testdata', name), 'utf8')) as Record<string, unknown>;
const parseAt = (raw: unknown) => enrichmentProcessorFactory.parseConfig(new Fields(raw, 'processors.enrichment'));

function processor(raw: Record<string, unknown> = {}, recent: TracesData[] = [], metrics = new MetricsRegistry()): EnrichmentProcessor {
  return enrichmentProcessorFactory.create(parseAt(raw), {
    id: 'enrichment',
    dataDir: path.join(tmpdir(), 'agentotel-enrichment-test', 'enrichment'),
    configDir: path.join(here, 'testdata'),
    metrics,
    recentOutput: async function* () {
      for (const value of recent) yield { partition: 0, value } satisfies PublishedMessage;
    },
  }) as EnrichmentProcessor;
}

const SESSION = 'sess-1';
const TRACE = sessionTraceId('claude-code', SESSION);
const NOV = 1_795_305_393_000_000_000n; // 2026-11-21
const MAY = 1_777_593_600_000_000_000n; // 2026-05-01
const session = { kind: 'session', key: SESSION } as const;
const prompt = { kind: 'prompt', key: 'p1' } as const;

function capture(
  views: SpanView[],
  resource: Record<string, AttributeValue> = {},
  path: SessionCapture['path'] = 'transcript',
): SessionCapture {
  return { agent: 'claude-code', sessionId: SESSION, path, resource, views };
}

interface CallUsage {
  input: number;
  output: number;
  read?: number;
  write?: number;
  write1h?: number;
  agentCost?: number;
  startNs?: bigint;
}

function call(key: string, model: string, u: CallUsage, parent: SpanView['parent'] = prompt): SpanView {
  return modelCallView(key, parent, 'anthropic', model, {
    startNs: u.startNs ?? NOV,
    attributes: {
      'gen_ai.usage.input_tokens': u.input,
      'gen_ai.usage.output_tokens': u.output,
      'gen_ai.usage.cache_read.input_tokens': u.read,
      'gen_ai.usage.cache_creation.input_tokens': u.write,
      'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens': u.write1h,
      'agentotel.agent.cost_usd': u.agentCost,
    },
  });
}

const sessionWithCost = (usd: number, attributes: Record<string, AttributeValue> = {}) =>
  sessionView('claude-code', SESSION, { startNs: NOV, attributes: { 'agentotel.agent.cost_usd': usd, ...attributes } });

/** Span attributes by span id. */
async function run(p: EnrichmentProcessor, ...captures: SessionCapture[]): Promise<Map<string, Record<string, string>>> {
  const out = await p.processTraces(capturesToTraces(captures));
  return new Map([...eachSpan(out)].map(({ span }) => [span.spanId, attributesToMap(span.attributes)]));
}
const idOf = (ref: SpanView['ref']) => agentSpanId(TRACE, ref);

describe('enrichment config', () => {
  it('parses testdata/valid.yaml with every key, and creates the processor from it', () => {
    expect(parseAt(testdata('valid.yaml'))).toEqual({
      pricingFile: '../../../config/pricing.yaml',
      teamsFile: 'teams.yaml',
      maxTraces: 2000,
      reconciliation: { driftThreshold: 0.02, driftMinUsd: 0.001 },
      attribution: {
        keys: { team: ['team', 'team.id'], user: ['user.email'], department: ['department', 'cost_center'], project: ['project'] },
        pseudonymKey: '0123456789abcdef0123',
      },
    });
    expect(() => processor(testdata('valid.yaml'))).not.toThrow();
  });

  it('has defaults for every key', () => {
    expect(parseAt({})).toMatchObject({
      pricingFile: undefined,
      teamsFile: undefined,
      maxTraces: 10_000,
      reconciliation: { driftThreshold: 0.01, driftMinUsd: 0.0001 },
      attribution: {
        keys: { team: ['team', 'team.id', 'team.name'], user: ['user.email', 'user.id', 'enduser.id'] },
        pseudonymKey: undefined,
      },
    });
  });

  it('rejects testdata/invalid.yaml naming the key', () => {
    expect(() => parseAt(testdata('invalid.yaml'))).toThrow(
      new ConfigError('processors.enrichment.reconciliation.drift_threshold', 'must be at least 0 (got -0.5)'),
    );
  });

  it.each([
    [{ pricing_file: '' }, 'processors.enrichment.pricing_file: must not be empty'],
    [{ teams_file: ['x'] }, 'processors.enrichment.teams_file: must be a string (got a list)'],
    [{ max_traces: 0 }, 'processors.enrichment.max_traces: must be at least 1 (got 0)'],
    [{ attribution: { team_keys: [] } }, 'processors.enrichment.attribution.team_keys: must name at least one attribute'],
    [{ attribution: { pseudonym_key: 'short' } }, 'processors.enrichment.attribution.pseudonym_key: must be at least 16 characters'],
    [{ reconciliation: { drift: 1 } }, 'processors.enrichment.reconciliation.drift: unknown key'],
    [{ pricing: 'x' }, 'processors.enrichment.pricing: unknown key'],
  ])('rejects %j', (raw, msg) => expect(() => parseAt(raw)).toThrow(msg));

  it('an empty pseudonym key (an unset ${env:…:-}) is no key', () => {
    expect(parseAt({ attribution: { pseudonym_key: '' } }).attribution.pseudonymKey).toBeUndefined();
  });

  it('a missing teams file stops the processor at start naming the key', () => {
    expect(() => processor({ teams_file: 'nope.yaml' })).toThrow('processors.enrichment.teams_file: cannot read teams file');
  });
});

describe('cost of model calls', () => {
  it('prices a call at the price in effect at its start, recording the table version, model, date and tier', async () => {
    // Opus 4.6, 250,000-token prompt: on 2026-05-01 above the 200K long-context threshold ($10 / $37.50), from 2026-08-21 not.
    const spans = await run(
      processor(),
      capture([
        call('req_may', 'claude-opus-4-6-20260205', { input: 250_000, output: 1_000, startNs: MAY }),
        call('req_nov', 'claude-opus-4-6', { input: 250_000, output: 1_000 }),
      ]),
    );
    expect(spans.get(idOf({ kind: 'model_call', key: 'req_may' }))).toMatchObject({
      'agentotel.cost.usd': '2.5375',
      'agentotel.pricing.version': '2026-11-23.1',
      'agentotel.pricing.model': 'claude-opus-4-6',
      'agentotel.pricing.effective_from': '2026-02-06',
      'agentotel.pricing.tier': 'long_context',
    });
    expect(spans.get(idOf({ kind: 'model_call', key: 'req_nov' }))).toMatchObject({
      'agentotel.cost.usd': '1.275',
      'agentotel.pricing.effective_from': '2026-08-21',
      'agentotel.pricing.tier': 'standard',
    });
  });

  it('subtracts cache tokens from input and prices 1-hour writes at the 1-hour rate', async () => {
    // The first call of g-secrets as Opus 4.5: 3 in, 66 out, 14,420 written: 3·5 + 66·25 + 14420·6.25 = 91,790 per MTok;
    // the same with the writes' 1-hour TTL: 3·5 + 66·25 + 14420·10 = 145,865.
    const spans = await run(
      processor(),
      capture([
        call('req_5m', 'claude-opus-4-5', { input: 14_423, output: 66, write: 14_420 }),
        call('req_1h', 'claude-opus-4-5', { input: 14_423, output: 66, write: 14_420, write1h: 14_420 }),
      ]),
    );
    expect(spans.get(idOf({ kind: 'model_call', key: 'req_5m' }))!['agentotel.cost.usd']).toBe('0.09179');
    expect(spans.get(idOf({ kind: 'model_call', key: 'req_1h' }))!['agentotel.cost.usd']).toBe('0.145865');
  });

  it('flags an unknown or missing model as unpriced, never $0, and counts it', async () => {
    const metrics = new MetricsRegistry();
    const noModel = modelCallView('req_none', prompt, 'anthropic', undefined, { attributes: { 'gen_ai.usage.output_tokens': 5 } });
    const spans = await run(processor({}, [], metrics), capture([call('req_x', 'claude-opus-9', { input: 6, output: 615 }), noModel]));
    for (const key of ['req_x', 'req_none']) {
      const span = spans.get(idOf({ kind: 'model_call', key }))!;
      expect(span['agentotel.cost.unpriced']).toBe('true');
      expect(span['agentotel.cost.usd']).toBeUndefined();
      expect(span['agentotel.pricing.version']).toBe('2026-11-23.1');
    }
    expect(metrics.counter('agentotel_enrichment_unpriced_calls_total', '').get({ processor: 'enrichment' })).toBe(2);
  });

  it('does not price agent or tool spans (their usage is a total) nor spans without usage', async () => {
    const spans = await run(
      processor(),
      capture([
        sessionView('claude-code', SESSION, { attributes: { 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 100 } }),
        toolCallView('toolu_1', prompt, 'Bash'),
      ]),
    );
    for (const span of spans.values()) {
      expect(span['agentotel.cost.usd']).toBeUndefined();
      expect(span['agentotel.cost.unpriced']).toBeUndefined();
      expect(span['agentotel.pricing.version']).toBeUndefined();
    }
  });

  it('leaves its input untouched, and replaces what an earlier pass set', async () => {
    const data = capturesToTraces([capture([call('req_1', 'claude-sonnet-4-6', { input: 10, output: 10 })], { team: 't' })]);
    const [span] = [...eachSpan(data)];
    span!.span.attributes!.push(
      { key: 'agentotel.cost.unpriced', value: { boolValue: true } },
      { key: 'agentotel.team', value: { stringValue: 'old' } },
    );
    const before = structuredClone(data);
    const [out] = [...eachSpan(await processor().processTraces(data))].map((c) => attributesToMap(c.span.attributes));
    expect(data).toEqual(before);
    expect(out).toMatchObject({ 'agentotel.team': 't', 'agentotel.cost.usd': '0.00018' });
    expect(out!['agentotel.cost.unpriced']).toBeUndefined();
  });
});

describe('reconciliation with the agent’s own cost', () => {
  // claude-opus-5-5 as Claude Code 2.1.328 prices it: a-baseline's calls cost 0.072567 and 0.004202.
  const first = { input: 3 + 14_215, output: 74, write: 14_215 };
  const second = { input: 1 + 14_215 + 187, output: 21, read: 14_215, write: 187 };

  it('per model call: both figures, and drift flagged beyond the threshold (and counted)', async () => {
    const metrics = new MetricsRegistry();
    const spans = await run(
      processor({}, [], metrics),
      capture(
        [
          call('req_ok', 'claude-opus-5-5', { ...first, agentCost: 0.07256699999999999 }),
          call('req_off', 'claude-opus-5-5', { ...first, agentCost: 0.08 }),
          call('req_tiny', 'claude-opus-5-5', { ...second, agentCost: 0.00425 }), // 4.8e-5 off: 1.1%, under $0.0001
        ],
        {},
        'otel',
      ),
    );
    expect(spans.get(idOf({ kind: 'model_call', key: 'req_ok' }))).toMatchObject({
      'agentotel.cost.usd': '0.072567',
      'agentotel.agent.cost_usd': '0.07256699999999999',
      'agentotel.cost.drift_usd': '0',
      'agentotel.cost.drift': 'false',
    });
    expect(spans.get(idOf({ kind: 'model_call', key: 'req_off' }))).toMatchObject({
      'agentotel.cost.drift_usd': '0.007433',
      'agentotel.cost.drift': 'true',
    });
    expect(spans.get(idOf({ kind: 'model_call', key: 'req_tiny' }))).toMatchObject({ 'agentotel.cost.drift': 'false' });
    const count = (name: string) => metrics.counter(name, '').get({ processor: 'enrichment' });
    expect([count('agentotel_enrichment_priced_calls_total'), count('agentotel_enrichment_cost_drift_total')]).toEqual([3, 1]);
  });

  it('per session: the sum of its model calls (across messages) against the reported total', async () => {
    const p = processor();
    await run(p, capture([call('req_1', 'claude-opus-5-5', first)]));
    const spans = await run(p, capture([sessionWithCost(0.07676899999999999), call('req_2', 'claude-opus-5-5', second)]));
    expect(spans.get(idOf(session))).toMatchObject({
      'agentotel.cost.computed_usd': '0.076769',
      'agentotel.cost.drift': 'false',
    });
    const off = await run(p, capture([sessionWithCost(0.1)]));
    expect(off.get(idOf(session))).toMatchObject({ 'agentotel.cost.drift_usd': '0.023231', 'agentotel.cost.drift': 'true' });
  });

  it('trap: a resumed session repeating earlier records, and repeated snapshots of a call, count once', async () => {
    const p = processor();
    const once = [call('req_1', 'claude-opus-5-5', first), call('req_2', 'claude-opus-5-5', second)];
    await run(p, capture(once), capture(once, {}, 'otel'));
    await run(p, capture(once)); // the resumed run's transcript repeats them: same span ids
    const spans = await run(p, capture([sessionWithCost(0.07676899999999999)]));
    expect(spans.get(idOf(session))!['agentotel.cost.computed_usd']).toBe('0.076769');
  });

  it('counts unpriced calls of the session instead of treating them as $0', async () => {
    const spans = await run(
      processor(),
      capture([call('req_1', 'claude-opus-5-5', first), call('req_2', 'claude-opus-9', second), sessionWithCost(0.076769)]),
    );
    expect(spans.get(idOf(session))).toMatchObject({
      'agentotel.cost.computed_usd': '0.072567',
      'agentotel.cost.unpriced_calls': '1',
      'agentotel.cost.drift': 'true',
    });
  });

  it('rebuilds the sessions’ costs from its recent output when given partitions (a restart, a rebalance)', async () => {
    const written = await processor().processTraces(
      capturesToTraces([capture([call('req_1', 'claude-opus-5-5', first), call('req_2', 'claude-opus-5-5', second)])]),
    );
    const restarted = processor({}, [written]);
    await restarted.assign([0]);
    const spans = await run(restarted, capture([sessionWithCost(0.07676899999999999)]));
    expect(spans.get(idOf(session))).toMatchObject({ 'agentotel.cost.computed_usd': '0.076769', 'agentotel.cost.drift': 'false' });
  });
});

describe('subagents', () => {
  const subagent = { kind: 'subagent', key: 'a77' } as const;
  const agentTool = { kind: 'tool_call', key: 'toolu_agent' } as const;
  const subagentView: SpanView = {
    ref: subagent,
    parent: agentTool,
    name: 'invoke_agent Explore',
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': 'a77', 'gen_ai.agent.name': 'Explore' },
  };

  it('trap: a subagent’s calls carry the subagent and the session; the session total includes them once', async () => {
    const p = processor();
    const spans = await run(
      p,
      capture([
        call('req_main', 'claude-haiku-4-5', { input: 1_000_000, output: 0 }, prompt),
        subagentView,
        call('req_sub', 'claude-haiku-4-5', { input: 0, output: 200_000 }, subagent),
        toolCallView('toolu_glob', subagent, 'Glob'),
      ]),
    );
    const sub = spans.get(idOf({ kind: 'model_call', key: 'req_sub' }))!;
    expect(sub).toMatchObject({ 'agentotel.subagent.id': 'a77', 'agentotel.subagent.type': 'Explore', 'gen_ai.conversation.id': SESSION });
    expect(spans.get(idOf({ kind: 'tool_call', key: 'toolu_glob' }))).toMatchObject({ 'agentotel.subagent.id': 'a77' });
    expect(spans.get(idOf({ kind: 'model_call', key: 'req_main' }))!['agentotel.subagent.id']).toBeUndefined();
    // $1 main + $1 subagent: the session's total is $2, the subagent's (its calls) $1.
    const total = await run(p, capture([sessionWithCost(2)]));
    expect(total.get(idOf(session))).toMatchObject({ 'agentotel.cost.computed_usd': '2', 'agentotel.cost.drift': 'false' });
  });
});

describe('attribution', () => {
  const whoOf = async (p: EnrichmentProcessor, views: SpanView[], resource: Record<string, AttributeValue> = {}) => {
    const spans = await run(p, capture(views, resource));
    return [...spans.values()].map((s) => ({
      team: s['agentotel.team'],
      user: s['agentotel.user'],
      project: s['agentotel.project'],
      department: s['agentotel.department'],
    }));
  };
  const tool = toolCallView('toolu_1', prompt, 'Bash');

  it('takes team, user, department and project from the resource (OTEL_RESOURCE_ATTRIBUTES, hook identity)', async () => {
    expect(
      await whoOf(processor(), [tool], { team: 'platform', 'user.email': 'anon_1', 'user.id': 'u', department: 'eng', project: 'api' }),
    ).toEqual([{ team: 'platform', user: 'anon_1', project: 'api', department: 'eng' }]);
    expect(await whoOf(processor(), [tool], { 'team.id': 'core', 'user.id': 'u-7' })).toEqual([
      { team: 'core', user: 'u-7', project: 'unassigned', department: undefined },
    ]);
  });

  it('falls back to the span’s own attributes, then to what other views of the session told', async () => {
    const userOnSpan = toolCallView('toolu_2', prompt, 'Bash', { attributes: { 'user.id': 'u-span' } });
    expect(await whoOf(processor(), [userOnSpan])).toEqual([
      { team: 'unassigned', user: 'u-span', project: 'unassigned', department: undefined },
    ]);
    const p = processor();
    await run(p, capture([sessionView('claude-code', SESSION)], { team: 'payments', 'user.email': 'anon_9' }, 'hooks'));
    expect(await whoOf(p, [tool])).toEqual([{ team: 'payments', user: 'anon_9', project: 'unassigned', department: undefined }]);
  });

  it('maps users (also by their pseudonym) and repositories with the teams file; the rest is unassigned, visibly', async () => {
    const key = '0123456789abcdef0123';
    const p = processor({ teams_file: 'teams.yaml', attribution: { pseudonym_key: key } });
    const anon = new Pseudonymizer(key).pseudonym('ana@example.com');
    expect(await whoOf(p, [tool], { 'user.email': anon })).toEqual([
      { team: 'payments', user: anon, project: 'unassigned', department: 'finance' },
    ]);
    const repo = { 'vcs.repository.url.full': 'git@github.com:acme/payments-api.git' };
    expect(await whoOf(processor({ teams_file: 'teams.yaml' }), [tool], { 'user.email': 'eve@example.com', ...repo })).toEqual([
      { team: 'payments', user: 'eve@example.com', project: 'payments-api', department: 'engineering' },
    ]);
    // No entry: the org's team, the repository path as project.
    expect(
      await whoOf(processor({ teams_file: 'teams.yaml' }), [tool], { 'vcs.repository.url.full': 'https://github.com/acme/infra' }),
    ).toEqual([{ team: 'platform', user: 'unassigned', project: 'acme/infra', department: 'engineering' }]);
    // The resource's own team wins over the mapping.
    expect((await whoOf(processor({ teams_file: 'teams.yaml' }), [tool], { team: 'sre', 'user.email': 'ana@example.com' }))[0]!.team).toBe(
      'sre',
    );
  });

  it('takes the redaction processor’s generated key from its data directory when none is configured', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const dataDir = path.join(tmpdir(), `agentotel-enrichment-key-${process.pid}`);
    mkdirSync(path.join(dataDir, 'redaction'), { recursive: true });
    const key = 'f'.repeat(64);
    writeFileSync(path.join(dataDir, 'redaction', 'pseudonym.key'), key + '\n');
    const p = enrichmentProcessorFactory.create(parseAt({ teams_file: 'teams.yaml' }), {
      id: 'enrichment',
      dataDir: path.join(dataDir, 'enrichment'),
      configDir: path.join(here, 'testdata'),
      metrics: new MetricsRegistry(),
      recentOutput: async function* () {},
    }) as EnrichmentProcessor;
    await p.start();
    const anon = new Pseudonymizer(key).pseudonym('bob@example.com');
    expect((await whoOf(p, [tool], { 'user.email': anon }))[0]!.team).toBe('platform');
  });

  it('takes the project from the session’s working directory when no repository is known', async () => {
    const p = processor();
    await run(p, capture([sessionView('claude-code', SESSION, { attributes: { 'agentotel.session.cwd': '~/projects/hello-node' } })]));
    expect((await whoOf(p, [tool]))[0]!.project).toBe('hello-node');
  });
});

describe('git context', () => {
  it('copies the resource’s and the session’s repository, branch and commit onto every span, never over the span’s own', async () => {
    const p = processor();
    // The command hook's git context on the resource; the transcript's session view knows the branch.
    await run(
      p,
      capture(
        [sessionView('claude-code', SESSION)],
        { 'vcs.repository.url.full': 'https://github.com/acme/api', 'vcs.ref.head.name': 'main', 'vcs.ref.head.revision': 'abc123' },
        'hooks',
      ),
    );
    const spans = await run(
      p,
      capture([
        sessionView('claude-code', SESSION, { attributes: { 'vcs.ref.head.name': 'feature' } }),
        call('req_1', 'claude-haiku-4-5', { input: 1, output: 1 }),
      ]),
    );
    expect(spans.get(idOf(session))).toMatchObject({
      'vcs.ref.head.name': 'feature',
      'vcs.repository.url.full': 'https://github.com/acme/api',
    });
    expect(spans.get(idOf({ kind: 'model_call', key: 'req_1' }))).toMatchObject({
      'vcs.repository.url.full': 'https://github.com/acme/api',
      'vcs.ref.head.name': 'feature',
      'vcs.ref.head.revision': 'abc123',
      'agentotel.project': 'acme/api',
    });
  });
});
