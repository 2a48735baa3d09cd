import { describe, expect, it } from 'vitest';
import type { Processor } from '../core/component.ts';
import type { ProcessorFactory } from '../core/component.ts';
import type { LogsData, Span, TracesData } from '../core/otlp/model.ts';
import { eachSpan } from '../core/otlp/traces.ts';
import type { PipelineConfig, ServiceConfig } from './config.ts';
import { chainProcessors } from './processor-chain.ts';
import { findProcessorStages } from './topology.ts';

const span = (name: string): Span => ({
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  name,
  startTimeUnixNano: '1',
  endTimeUnixNano: '2',
});
const traces = (...spans: Span[]): TracesData => ({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
const names = (d: TracesData) => [...eachSpan(d)].map((c) => c.span.name);
const factory = { kind: 'processor', type: 'x' } as unknown as ProcessorFactory;
const pipeline = (id: string, processors: string[]): PipelineConfig => ({
  id,
  signal: id.startsWith('logs') ? 'logs' : 'traces',
  receivers: [],
  processors: processors.map((p) => ({ id: p, factory, config: {} })),
  exporters: [],
});

function recording(id: string, log: string[], map: (d: TracesData) => TracesData = (d) => d): { id: string; processor: Processor } {
  return {
    id,
    processor: {
      start: async () => void log.push(`${id}.start`),
      processTraces: (d) => (log.push(`${id}.process`), map(d)),
      commit: () => void log.push(`${id}.commit`),
      abort: () => void log.push(`${id}.abort`),
      shutdown: async () => void log.push(`${id}.shutdown`),
    },
  };
}

describe('processor chain', () => {
  it('runs each message through the processors in order and passes every lifecycle call on', async () => {
    const log: string[] = [];
    const rename = (suffix: string) => (d: TracesData) =>
      traces(...[...eachSpan(d)].map((c) => ({ ...c.span, name: c.span.name + suffix })));
    const chain = chainProcessors([recording('a', log, rename('-a')), recording('b', log, rename('-b'))]);
    await chain.start!();
    expect(names(await chain.processTraces(traces(span('s'))))).toEqual(['s-a-b']);
    chain.commit!();
    chain.abort!();
    await chain.shutdown!();
    expect(log).toEqual([
      'a.start',
      'b.start',
      'a.process',
      'b.process',
      'a.commit',
      'b.commit',
      'a.abort',
      'b.abort',
      'a.shutdown',
      'b.shutdown',
    ]);
  });

  it('passes partition assignments and revocations on to the processors that follow partitions, and only has them if one does', async () => {
    const log: string[] = [];
    const partitioned = recording('b', log);
    partitioned.processor.assign = async (partitions) => void log.push(`b.assign ${partitions}`);
    partitioned.processor.revoke = (partitions) => void log.push(`b.revoke ${partitions}`);
    const chain = chainProcessors([recording('a', log), partitioned]);
    await chain.assign!([0, 2]);
    chain.revoke!([2]);
    expect(log).toEqual(['b.assign 0,2', 'b.revoke 2']);
    const plain = chainProcessors([recording('a', log), recording('c', log)]);
    expect([plain.assign, plain.revoke]).toEqual([undefined, undefined]);
  });

  it('stops at a processor that leaves no spans, and names the processor that throws', async () => {
    const log: string[] = [];
    const drop = chainProcessors([recording('a', log, () => ({ resourceSpans: [] })), recording('b', log)]);
    expect(names(await drop.processTraces(traces(span('s'))))).toEqual([]);
    expect(log).toEqual(['a.process']);
    const failing = chainProcessors([
      recording('a', []),
      {
        id: 'dedupe',
        processor: {
          processTraces: () => {
            throw new Error('invalid identity');
          },
        },
      },
    ]);
    await expect(failing.processTraces(traces(span('s')))).rejects.toThrow('dedupe: invalid identity');
  });

  it('passes what a processor flushes through the processors after it, and reports the earliest held offset of any', async () => {
    const log: string[] = [];
    const rename = (suffix: string) => (d: TracesData) =>
      traces(...[...eachSpan(d)].map((c) => ({ ...c.span, name: c.span.name + suffix })));
    const holding = (id: string, held: string | undefined): { id: string; processor: Processor } => ({
      id,
      processor: {
        processTraces: (d) => d,
        flush: (now) => (log.push(`${id}.flush ${now}`), traces(span(`${id}-flushed`))),
        heldFrom: () => held,
      },
    });
    const chain = chainProcessors([
      recording('first', log, rename('-first')),
      holding('h1', '12'),
      recording('mid', log, rename('-mid')),
      holding('h2', '9'),
      recording('last', log, rename('-last')),
    ]);
    expect(names(await chain.flush!(7))).toEqual(['h1-flushed-mid-last', 'h2-flushed-last']);
    expect(log).toEqual(['h1.flush 7', 'mid.process', 'last.process', 'h2.flush 7', 'last.process']);
    expect(chain.heldFrom!(0)).toBe('9');
    // A chain of processors that hold nothing has no flush for the stage to call.
    expect(chainProcessors([recording('a', []), recording('b', [])]).flush).toBeUndefined();
  });

  it('a worker may run only consecutive processors of one pipeline together', () => {
    const config = {
      pipelines: [pipeline('traces', ['redaction', 'enrichment', 'dedupe'])],
      bus: { topicPrefix: 'p.' },
    } as unknown as ServiceConfig;
    const [stage, ...more] = findProcessorStages(config, ['enrichment', 'dedupe']);
    expect(more).toEqual([]);
    expect([stage!.input.name, stage!.output.name, stage!.group]).toEqual([
      'p.traces.redaction',
      'p.traces.dedupe',
      'p.traces.enrichment+dedupe',
    ]);
    expect(findProcessorStages(config, ['redaction'])[0]!.group).toBe('p.traces.redaction');
    expect(() => findProcessorStages(config, ['redaction', 'dedupe'])).toThrow(
      'processors redaction, dedupe are not consecutive in pipeline "traces" (redaction → enrichment → dedupe)',
    );
    expect(() => findProcessorStages(config, ['sampler'])).toThrow('no pipeline has a processor "sampler"');
  });

  it('a worker serves every pipeline its processor is in, or the one --pipeline names', () => {
    const config = {
      pipelines: [pipeline('traces', ['redaction', 'enrichment', 'dedupe']), pipeline('logs', ['redaction'])],
      bus: { topicPrefix: 'p.' },
    } as unknown as ServiceConfig;
    const topics = (ids: string[], pipelineId?: string) =>
      findProcessorStages(config, ids, pipelineId).map((s) => [s.input.name, s.output.name, s.group].join(' '));
    expect(topics(['redaction'])).toEqual([
      'p.traces.received p.traces.redaction p.traces.redaction',
      'p.logs.received p.logs.redaction p.logs.redaction',
    ]);
    // The logs pipeline ends after redaction: the worker of the whole traces chain runs redaction on logs.
    expect(topics(['redaction', 'enrichment', 'dedupe'])).toEqual([
      'p.traces.received p.traces.dedupe p.traces.redaction+enrichment+dedupe',
      'p.logs.received p.logs.redaction p.logs.redaction',
    ]);
    expect(topics(['enrichment'])).toEqual(['p.traces.redaction p.traces.enrichment p.traces.enrichment']);
    expect(topics(['redaction'], 'logs')).toEqual(['p.logs.received p.logs.redaction p.logs.redaction']);
    expect(() => topics(['enrichment'], 'logs')).toThrow('no pipeline "logs" has a processor "enrichment"');
    expect(() => topics(['redaction', 'enrichment'], 'logs')).toThrow(
      'no pipeline has the processors redaction, enrichment one after another',
    );
    // A different processor between them in any pipeline is an error, not a silent part.
    config.pipelines.push(pipeline('logs/other', ['redaction', 'sampler']));
    expect(() => topics(['redaction', 'enrichment'])).toThrow('not consecutive in pipeline "logs/other"');
  });

  it('a chain handles logs only when every processor does', async () => {
    const upper = (id: string): { id: string; processor: Processor } => ({
      id,
      processor: {
        processTraces: (data) => data,
        processLogs: (data) => ({
          resourceLogs: data.resourceLogs?.map((rl) => ({
            ...rl,
            scopeLogs: rl.scopeLogs?.map((sl) => ({
              ...sl,
              logRecords: sl.logRecords?.map((r) => ({ ...r, body: { stringValue: `${r.body?.stringValue}-${id}` } })),
            })),
          })),
        }),
      },
    });
    const logs: LogsData = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'r' } }] }] }] };
    const out = await chainProcessors([upper('a'), upper('b')]).processLogs!(logs);
    expect(out.resourceLogs![0]!.scopeLogs![0]!.logRecords![0]!.body).toEqual({ stringValue: 'r-a-b' });
    expect(chainProcessors([upper('a'), recording('t', [])]).processLogs).toBeUndefined();
  });
});
