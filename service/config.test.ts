import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, type Fields } from '../core/config/fields.ts';
import type { ComponentFactory, ExporterFactory, ProcessorFactory, ReceiverFactory } from '../core/component.ts';
import { parseConfigText } from '../core/config/load.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseServiceConfig, type FactoryLookup } from './config.ts';
import { factoryLookup } from './components.ts';

// Stand-in factories: this tests how the service validates and wires config, not components.
const receiver: ReceiverFactory<{ port: number }> = {
  kind: 'receiver',
  type: 'otlp',
  signals: ['traces', 'logs', 'metrics'],
  parseConfig: (f: Fields) => ({ port: f.int('port', 4317, { min: 0, max: 65535 }) }),
  create: () => ({ start: async () => {}, shutdown: async () => {} }),
};
const processor: ProcessorFactory<{ tier: number }> = {
  kind: 'processor',
  type: 'redaction',
  parseConfig: (f: Fields) => ({ tier: f.oneOf('tier', [1, 2, 3] as const, 2) }),
  create: () => ({ processTraces: (d) => d }),
};
const exporter: ExporterFactory<object> = {
  kind: 'exporter',
  type: 'clickhouse',
  signals: ['traces', 'logs'],
  parseConfig: () => ({}),
  create: () => ({ start: async () => {}, export: async () => {}, shutdown: async () => {} }),
};
const lookup: FactoryLookup = (kind, type) =>
  ([receiver, processor, exporter] as ComponentFactory[]).find((f) => f.kind === kind && f.type === type);

const base = `
receivers: { otlp: { port: 0 } }
processors: { redaction: { tier: 3 } }
exporters: { clickhouse: {} }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [redaction], exporters: [clickhouse] }
`;

function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  return parseServiceConfig(parseConfigText(yaml, 'test.yaml', env), lookup, '/etc/agentotel');
}

function errorOf(yaml: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    load(yaml, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('service config', () => {
  it('assembles pipelines from components with their validated config', () => {
    const c = load(base);
    expect(c.pipelines).toHaveLength(1);
    const [p] = c.pipelines;
    expect(p!.signal).toBe('traces');
    expect(p!.receivers[0]!.config).toEqual({ port: 0 });
    expect(p!.processors[0]!.config).toEqual({ tier: 3 });
    expect(c.bus.topicPrefix).toBe('agentotel.');
    expect(c.bus.kafka.partitions).toBe(4);
    expect(c.telemetry.metricsAddress).toBe('127.0.0.1:8888');
  });

  it('substitutes ${env:VAR} and defaults', () => {
    const c = load(base.replace('tier: 3', 'tier: "${env:TIER}"') + 'bus: { kafka: { brokers: "${env:BROKERS:-a:1,b:2}" } }\n', {
      TIER: '1',
    });
    expect(c.pipelines[0]!.processors[0]!.config).toEqual({ tier: 1 });
    expect(c.bus.kafka.brokers).toEqual(['a:1', 'b:2']);
  });

  it.each([
    [base.replace('tier: 3', 'tier: 4'), 'processors.redaction.tier', 'must be one of 1, 2, 3'],
    [base.replace('port: 0', 'port: 99999'), 'receivers.otlp.port', 'at most 65535'],
    [base.replace('port: 0', 'port: 0, prot: 1'), 'receivers.otlp.prot', 'unknown key'],
    [
      base.replace('processors: [redaction]', 'processors: [redactoin]'),
      'service.pipelines.traces.processors[0]',
      'not defined under processors',
    ],
    [
      base.replace('processors: { redaction: { tier: 3 } }', 'processors: { redaction: {}, sampler: {} }'),
      'processors.sampler',
      'unknown processor type "sampler"',
    ],
    [base.replace('traces: {', 'spans: {'), 'service.pipelines.spans', 'pipeline ids start with traces'],
    [base.replace('traces: {', 'metrics: {'), 'service.pipelines.metrics.processors[0]', 'processor "redaction" does not handle metrics'],
    [base.replace('traces: {', 'logs: {'), 'service.pipelines.logs.processors[0]', 'processor "redaction" does not handle logs'],
    [base + 'bus: { kafka: { partitions: 0 } }\n', 'bus.kafka.partitions', 'at least 1'],
    [base + 'bus: { state_replay_window: soon }\n', 'bus.state_replay_window', 'must be a duration'],
    [base.replace('tier: 3', 'tier: "${env:MISSING}"'), 'processors.redaction.tier', 'MISSING is not set'],
  ])('names the key of each mistake (%#)', (yaml, path, problem) => {
    const err = errorOf(yaml);
    expect(err.path).toBe(path);
    expect(err.message).toContain(problem);
  });

  it('rejects an exporter that does not take the pipeline signal', () => {
    const err = errorOf(base.replace('traces: {', 'metrics: {').replace('processors: [redaction], ', ''));
    expect(err.path).toBe('service.pipelines.metrics.exporters[0]');
  });

  it('ships a config whose YAML is valid for the stand-ins', () => {
    expect(() => parse(base)).not.toThrow();
  });
});

describe('processors on a logs pipeline', () => {
  const configDir = path.resolve('config');
  const shipped = readFileSync(path.join(configDir, 'agentotel.yaml'), 'utf8');
  const withLogsProcessors = (list: string) => {
    const text = shipped.replace(
      /(\n    logs:\n(?:      #.*\n)?      receivers: \[otlp\]\n      processors: )\[redaction\]/,
      `$1[${list}]`,
    );
    return parseServiceConfig(parseConfigText(text, 'agentotel.yaml', {}), factoryLookup(), configDir);
  };

  it('the shipped config redacts logs', () => {
    const logs = withLogsProcessors('redaction').pipelines.find((p) => p.id === 'logs');
    expect(logs?.processors.map((p) => p.id)).toEqual(['redaction']);
  });

  it.each(['dedupe', 'enrichment'])('refuses %s, which handles traces only, naming the key', (id) => {
    expect(() => withLogsProcessors(`redaction, ${id}`)).toThrow(
      new ConfigError('service.pipelines.logs.processors[1]', `processor "${id}" does not handle logs`),
    );
    expect(() => withLogsProcessors(id)).toThrow(`service.pipelines.logs.processors[0]: processor "${id}" does not handle logs`);
  });
});
