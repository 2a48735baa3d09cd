/**
 * The merge rules (README "Merge rules"), on views built by the canonical span model the
 * capture paths use (core/agent/session-spans.ts), through the processor with a clock of the
 * test's own: hold for the merge window, merge, write once, rewrite late with a new version.
 */
import { describe, expect, it } from 'vitest';
import {
  AgentAttr,
  capturesToTraces,
  sessionTraceId,
  UNASSIGNED,
  type CapturePath,
  type SpanView,
} from '../../core/agent/session-spans.ts';
import { attributesToMap } from '../../core/otlp/attributes.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { StatusCode, type Span, type TracesData } from '../../core/otlp/model.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { HeldSpans } from './held-spans.ts';
import { DedupeProcessor, type SeenSpan } from './processor.ts';
import { SeenSpans } from './seen-spans.ts';

const WINDOW = 10_000;
const SESSION = 'sess-1';
const TRACE = sessionTraceId('claude-code', SESSION);
const S = (seconds: number) => 1_763_769_600_000_000_000n + BigInt(seconds * 1e9);

const views = (path: CapturePath, list: SpanView[], resource?: Record<string, string>): TracesData =>
  capturesToTraces([{ agent: 'claude-code', sessionId: SESSION, path, views: list, resource }]);

/** A tool call view; both times known unless overridden. */
const tool = (view: Partial<SpanView> = {}): SpanView => ({
  ref: { kind: 'tool_call', key: 'toolu_1' },
  parent: { kind: 'prompt', key: 'prompt-1' },
  name: 'execute_tool Bash',
  startNs: S(1),
  endNs: S(2),
  ...view,
});

function harness(recentOutput: TracesData[] = []) {
  let clock = 1_000_000;
  const metrics = new MetricsRegistry();
  const counter = (name: string) => metrics.counter(name, name);
  const processor = new DedupeProcessor(
    new SeenSpans<SeenSpan>(3_600_000, 1_000, () => clock),
    new HeldSpans(),
    WINDOW,
    async function* () {
      for (const value of recentOutput) yield { partition: 0, value };
    },
    { dropped: counter('dropped'), merged: counter('merged'), lateRewrites: counter('late'), labels: {} },
    () => clock,
  );
  let offset = 0;
  return {
    processor,
    /** Processes a message from the next offset of partition 0; returns what passed at once. */
    send: (data: TracesData) => spans(processor.processTraces(data, { partition: 0, offset: String(offset++) })),
    advance: (ms: number) => (clock += ms),
    /** Flushes what is due and commits it, as the stage does once it is published. */
    flush: async (now = clock) => {
      const out = spans(await processor.flush(now));
      processor.commit();
      return out;
    },
    count: (name: string) => counter(name).get({}),
  };
}

const spans = (data: TracesData): Span[] => [...eachSpan(data)].map((c) => c.span);
const attrs = (span: Span | undefined) => attributesToMap(span!.attributes);

/** The one span written after each message is sent and the window passed. */
async function mergedOf(...messages: TracesData[]): Promise<Span> {
  const h = harness();
  for (const m of messages) expect(h.send(m)).toEqual([]);
  h.advance(WINDOW);
  const out = await h.flush();
  expect(out).toHaveLength(1);
  return out[0]!;
}

describe('merge window', () => {
  it('holds the first view for the window, merges the views arriving meanwhile, and writes the span once', async () => {
    const h = harness();
    expect(h.send(views('hooks', [tool({ attributes: { 'tool.exit_code': 0 } })]))).toEqual([]);
    h.advance(4_000);
    expect(h.send(views('transcript', [tool({ attributes: { 'gen_ai.tool.call.arguments': '{"command":"ls"}' } })]))).toEqual([]);
    h.advance(WINDOW - 4_001);
    expect(await h.flush()).toEqual([]); // the window runs from the first view
    h.advance(1);
    const [span, ...more] = await h.flush();
    expect(more).toEqual([]);
    expect(span!.spanId).toBe(spans(views('hooks', [tool()]))[0]!.spanId);
    expect(attrs(span)).toMatchObject({
      'tool.exit_code': '0',
      'gen_ai.tool.call.arguments': '{"command":"ls"}',
      [AgentAttr.capturePath]: 'hooks,transcript',
      [AgentAttr.timeKnown]: 'both',
      [AgentAttr.version]: '1',
    });
    expect(await h.flush(Infinity)).toEqual([]);
    expect(h.count('merged')).toBe(1);
  });

  it('flush(Infinity) writes everything held, as at stop', async () => {
    const h = harness();
    h.send(views('hooks', [tool(), tool({ ref: { kind: 'tool_call', key: 'toolu_2' } })]));
    expect(await h.flush()).toEqual([]);
    expect(await h.flush(Infinity)).toHaveLength(2);
  });

  it('lets foreign spans (no capture path) through at once, untouched, and drops their exact repeats', async () => {
    const h = harness();
    const foreign: TracesData = {
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [{ traceId: TRACE, spanId: '00000000000000aa', name: 'GET /', startTimeUnixNano: '1', endTimeUnixNano: '2' }] },
          ],
        },
      ],
    };
    const direct = harness().processor.processTraces(foreign);
    expect(direct).toBe(foreign);
    expect(h.send(foreign)).toHaveLength(1);
    h.processor.commit();
    expect(h.send(foreign)).toEqual([]);
    expect(await h.flush(Infinity)).toEqual([]);
  });
});

describe('merge rules', () => {
  const orders: CapturePath[][] = [
    ['hooks', 'otel', 'transcript'],
    ['transcript', 'otel', 'hooks'],
    ['otel', 'hooks', 'transcript'],
  ];

  it.each(orders)(
    'attributes: the union, a conflicting key by path precedence transcript > otel > hooks (arriving %s, %s, %s)',
    async (...order) => {
      const byPath: Record<CapturePath, Record<string, string>> = {
        hooks: { all: 'hooks', 'otel+hooks': 'hooks', 'hooks.only': 'h' },
        otel: { all: 'otel', 'otel+hooks': 'otel', 'otel.only': 'o' },
        transcript: { all: 'transcript', 'transcript.only': 't' },
      };
      const span = await mergedOf(...order.map((path) => views(path, [tool({ attributes: byPath[path] })])));
      expect(attrs(span)).toMatchObject({
        all: 'transcript',
        'otel+hooks': 'otel',
        'hooks.only': 'h',
        'otel.only': 'o',
        'transcript.only': 't',
        [AgentAttr.capturePath]: 'hooks,otel,transcript',
      });
    },
  );

  it('resource attributes merge by the same rules', async () => {
    const h = harness();
    h.send(views('hooks', [tool()], { team: 'from-hooks', 'host.name': 'laptop' }));
    h.send(views('otel', [tool()], { team: 'payments', 'user.email': 'ana@example.com' }));
    h.advance(WINDOW);
    const out = await h.processor.flush(Number.MAX_SAFE_INTEGER);
    expect(out.resourceSpans).toHaveLength(1);
    expect(attributesToMap(out.resourceSpans![0]!.resource!.attributes)).toEqual({
      'service.name': 'claude-code',
      team: 'payments',
      'host.name': 'laptop',
      'user.email': 'ana@example.com',
    });
  });

  it('an unassigned team or user never overrides a real one, in either order and whatever the path ranks', async () => {
    const known = views('otel', [tool({ attributes: { 'agentotel.team': 'payments', 'agentotel.user': 'ana' } })]);
    const placeholder = views('transcript', [tool({ attributes: { 'agentotel.team': UNASSIGNED, 'agentotel.user': UNASSIGNED } })]);
    for (const order of [
      [known, placeholder],
      [placeholder, known],
    ]) {
      expect(attrs(await mergedOf(...order))).toMatchObject({ 'agentotel.team': 'payments', 'agentotel.user': 'ana' });
    }
    expect(attrs(await mergedOf(placeholder))).toMatchObject({ 'agentotel.team': UNASSIGNED });
  });

  it('within one path the later view wins (a record rewritten with the same id)', async () => {
    const first = views('transcript', [tool({ name: 'execute_tool', attributes: { 'tool.status': 'pending', 'tool.first': 'yes' } })]);
    const rewritten = views('transcript', [tool({ attributes: { 'tool.status': 'done' } })]);
    const span = await mergedOf(first, rewritten);
    expect(span.name).toBe('execute_tool Bash');
    expect(attrs(span)).toMatchObject({ 'tool.status': 'done', 'tool.first': 'yes' });
    // ...but not over a path of higher precedence.
    const overHooks = await mergedOf(
      views('transcript', [tool({ attributes: { k: 'transcript' } })]),
      views('hooks', [tool({ attributes: { k: 'hooks' } })]),
    );
    expect(attrs(overHooks)['k']).toBe('transcript');
  });

  it('start and end come from the views that know them, by precedence hooks > otel > transcript; time known is recomputed', async () => {
    const span = await mergedOf(
      views('transcript', [tool({ startNs: S(10), endNs: S(20) })]),
      views('otel', [tool({ startNs: S(11), endNs: S(21) })]),
      views('hooks', [tool({ startNs: S(12), endNs: undefined })]), // PreToolUse: knows only when it started
    );
    expect([span.startTimeUnixNano, span.endTimeUnixNano]).toEqual([String(S(12)), String(S(21))]);
    expect(attrs(span)[AgentAttr.timeKnown]).toBe('both');

    const endOnly = await mergedOf(
      views('hooks', [tool({ startNs: undefined, endNs: S(30) })]),
      views('transcript', [tool({ startNs: undefined, endNs: undefined })]),
    );
    expect([endOnly.startTimeUnixNano, endOnly.endTimeUnixNano]).toEqual([String(S(30)), String(S(30))]);
    expect(attrs(endOnly)[AgentAttr.timeKnown]).toBe('end');
    // A view that does not know a time does not move it, whatever its path.
    const unknown = await mergedOf(
      views('transcript', [tool({ startNs: S(5), endNs: S(6) })]),
      views('hooks', [tool({ startNs: undefined, endNs: undefined })]),
    );
    expect([unknown.startTimeUnixNano, unknown.endTimeUnixNano]).toEqual([String(S(5)), String(S(6))]);
  });

  it('records the highest redaction tier of the views merged (their content is kept), in either order', async () => {
    const tier = (path: CapturePath, t: number) => views(path, [tool({ attributes: { [AgentAttr.redactionTier]: t } })]);
    expect(attrs(await mergedOf(tier('transcript', 1), tier('hooks', 3)))[AgentAttr.redactionTier]).toBe('3');
    expect(attrs(await mergedOf(tier('hooks', 3), tier('transcript', 1)))[AgentAttr.redactionTier]).toBe('3');
  });

  it('among views of one path, the earliest start and the latest end (a resumed session starts again later)', async () => {
    const first = views('hooks', [tool({ startNs: S(10), endNs: S(20) })]);
    const resumed = views('hooks', [tool({ startNs: S(100), endNs: S(110) })]);
    for (const order of [
      [first, resumed],
      [resumed, first],
    ]) {
      const span = await mergedOf(...order);
      expect([span.startTimeUnixNano, span.endTimeUnixNano]).toEqual([String(S(10)), String(S(110))]);
    }
  });

  it('name and parent: the first non-empty by attribute precedence', async () => {
    const span = await mergedOf(
      views('hooks', [tool({ name: 'execute_tool', parent: { kind: 'prompt', key: 'prompt-1' } })]),
      views('otel', [tool({ name: 'execute_tool Bash', parent: undefined })]),
      views('transcript', [tool({ name: '', parent: undefined })]),
    );
    expect(span.name).toBe('execute_tool Bash');
    expect(span.parentSpanId).toBe(spans(views('hooks', [tool()]))[0]!.parentSpanId);
  });

  it('status is ERROR if any view says so, with its message', async () => {
    const span = await mergedOf(
      views('hooks', [tool({ error: 'exit code 1' })]),
      views('transcript', [tool()]),
      views('otel', [tool({ attributes: { ok: true } })]),
    );
    expect(span.status).toEqual({ code: StatusCode.ERROR, message: 'exit code 1' });
    const twoErrors = await mergedOf(
      views('transcript', [tool({ error: 'command failed: ls' })]),
      views('hooks', [tool({ error: 'exit code 1' })]),
    );
    expect(twoErrors.status).toEqual({ code: StatusCode.ERROR, message: 'command failed: ls' });
    expect((await mergedOf(views('hooks', [tool()]))).status).toBeUndefined();
  });

  it('events: the union, without exact duplicates, in time order', async () => {
    const compacted = { name: 'compaction', timeNs: S(3), attributes: { trigger: 'auto' } };
    const span = await mergedOf(
      views('transcript', [tool({ events: [compacted, { name: 'retry', timeNs: S(4) }] })]),
      views('hooks', [
        tool({ events: [{ name: 'permission', timeNs: S(1) }, compacted, { ...compacted, attributes: { trigger: 'manual' } }] }),
      ]),
    );
    expect(span.events!.map((e) => `${e.name}@${BigInt(e.timeUnixNano!) - S(0)}:${JSON.stringify(attributesToMap(e.attributes))}`)).toEqual(
      [
        'permission@1000000000:{}',
        'compaction@3000000000:{"trigger":"auto"}',
        'compaction@3000000000:{"trigger":"manual"}',
        'retry@4000000000:{}',
      ],
    );
  });
});

describe('views after the span was written', () => {
  it('an exact redelivery adds nothing and writes nothing; a view that adds information rewrites it with the next version', async () => {
    const h = harness();
    const hooks = views('hooks', [tool({ attributes: { 'tool.exit_code': 0 } })]);
    h.send(hooks);
    h.advance(WINDOW);
    expect((await h.flush()).map((s) => attrs(s)[AgentAttr.version])).toEqual(['1']);

    expect(h.send(hooks)).toEqual([]);
    expect(await h.flush(Infinity)).toEqual([]);
    expect(h.count('dropped')).toBe(1);

    h.send(views('transcript', [tool({ attributes: { 'gen_ai.tool.call.result': 'ok' } })]));
    h.send(views('transcript', [tool({ attributes: { 'gen_ai.tool.call.result': 'ok', more: 'x' } })])); // coalesced in the window
    expect(await h.flush()).toEqual([]);
    h.advance(WINDOW);
    const [late] = await h.flush();
    expect(attrs(late)).toMatchObject({
      'tool.exit_code': '0',
      'gen_ai.tool.call.result': 'ok',
      more: 'x',
      [AgentAttr.capturePath]: 'hooks,transcript',
      [AgentAttr.version]: '2',
    });
    expect([h.count('late'), h.count('merged')]).toEqual([1, 2]);

    // A hooks view is outranked by what the transcript said: nothing new.
    h.send(views('hooks', [tool({ attributes: { 'gen_ai.tool.call.result': 'other' } })]));
    expect(await h.flush(Infinity)).toEqual([]);
  });

  it('after a restart, recognises what was written from the replayed output and writes nothing twice', async () => {
    const before = harness();
    const sent = [
      views('hooks', [tool({ startNs: S(1), endNs: undefined, attributes: { k: 'hooks', h: 1 } })]),
      views('transcript', [tool({ attributes: { k: 'transcript-1' } })]),
      views('transcript', [tool({ attributes: { k: 'transcript-2' } })]),
      views('otel', [tool({ attributes: { k: 'otel', o: 1 } })]),
    ];
    for (const m of sent) before.send(m);
    before.advance(WINDOW);
    const written = await before.processor.flush(Infinity);
    before.processor.commit();

    const after = harness([written]);
    await after.processor.assign([0]);
    for (const m of sent) expect(after.send(m)).toEqual([]); // redelivered: nothing held
    expect(await after.flush(Infinity)).toEqual([]);
    // The merged span itself, processed again, adds nothing either.
    after.send(written);
    expect(await after.flush(Infinity)).toEqual([]);
    after.send(views('otel', [tool({ attributes: { new: 'yes' } })]));
    const [late] = await after.flush(Infinity);
    expect(attrs(late)).toMatchObject({ k: 'transcript-2', h: '1', o: '1', new: 'yes', [AgentAttr.version]: '2' });
  });
});

describe('rebalances', () => {
  const hooks = views('hooks', [tool({ attributes: { 'tool.exit_code': 0 } })]);
  const transcript = views('transcript', [tool({ attributes: { 'gen_ai.tool.call.arguments': '{}' } })]);

  it('drops what it holds of revoked partitions: their new owner, delivered the views again, writes the span once', async () => {
    const former = harness();
    former.send(hooks);
    former.send(transcript);
    expect(former.processor.heldFrom(0)).toBe('0');
    former.processor.revoke([1]);
    expect(former.processor.heldFrom(0)).toBe('0'); // another partition's revocation leaves it
    former.processor.revoke([0]);
    expect(former.processor.heldFrom(0)).toBeUndefined(); // the commit may move on: nothing of it is held
    former.advance(WINDOW);
    expect(await former.flush(Infinity)).toEqual([]);

    const owner = harness();
    await owner.processor.assign([0]);
    owner.send(hooks);
    owner.send(transcript);
    owner.advance(WINDOW);
    expect((await owner.flush()).map((s) => attrs(s)[AgentAttr.capturePath])).toEqual(['hooks,transcript']);
  });

  it('before its first write of a partition it got, reads its output again: what the former owner wrote meanwhile is not written twice', async () => {
    const output: TracesData[] = [];
    const owner = harness(output);
    await owner.processor.assign([0]); // the rebuild finds nothing yet
    owner.send(hooks);
    owner.send(transcript);
    // The former owner's flush, in flight when it lost the partition, lands after the rebuild.
    const former = harness();
    former.send(hooks);
    former.send(transcript);
    former.advance(WINDOW);
    output.push(await former.processor.flush(Infinity));
    owner.advance(WINDOW);
    expect(await owner.flush()).toEqual([]);
    expect(owner.count('dropped')).toBe(1);
  });

  it("what it merged beyond the former owner's write goes onto that write, as its next version", async () => {
    const output: TracesData[] = [];
    const owner = harness(output);
    await owner.processor.assign([0]);
    owner.send(hooks);
    owner.send(transcript);
    owner.send(views('otel', [tool({ attributes: { 'test.otel': 'yes' } })]));
    const former = harness();
    former.send(hooks);
    former.advance(WINDOW);
    output.push(await former.processor.flush(Infinity));
    owner.advance(WINDOW);
    const [span, ...more] = await owner.flush();
    expect(more).toEqual([]);
    expect(attrs(span)).toMatchObject({
      'tool.exit_code': '0',
      'gen_ai.tool.call.arguments': '{}',
      'test.otel': 'yes',
      [AgentAttr.capturePath]: 'hooks,otel,transcript',
      [AgentAttr.version]: '2',
    });
  });
});

describe('commit contract', () => {
  it('keeps the first offset of each partition it holds spans from until they are written and committed', async () => {
    const h = harness();
    const p = h.processor;
    p.processTraces(views('hooks', [tool()]), { partition: 0, offset: '5' });
    p.processTraces(views('transcript', [tool()]), { partition: 0, offset: '7' });
    p.processTraces(views('hooks', [tool({ ref: { kind: 'tool_call', key: 'toolu_2' } })]), { partition: 1, offset: '3' });
    p.commit(); // the batch, not the held spans
    expect([p.heldFrom(0), p.heldFrom(1), p.heldFrom(2)]).toEqual(['5', '3', undefined]);

    expect(spans(await p.flush(Infinity))).toHaveLength(2);
    expect(p.heldFrom(0)).toBe('5'); // handed out, not yet published
    p.abort(); // publishing failed: held again, and handed out again
    expect(p.heldFrom(1)).toBe('3');
    expect(spans(await p.flush(Infinity)).map((s) => attrs(s)[AgentAttr.version])).toEqual(['1', '1']);
    p.commit();
    expect([p.heldFrom(0), p.heldFrom(1)]).toEqual([undefined, undefined]);
  });
});
