/**
 * The collector config, validated: components by id (type[/name]), the bus, the pipelines
 * and the service's own telemetry. Each component block is validated by its factory, so
 * every error names the key: `processors.redaction.tier: must be one of 1, 2, 3 (got 4)`.
 */
import path from 'node:path';
import { ConfigError, Fields } from '../core/config/fields.ts';
import {
  processorSignals,
  type ComponentFactory,
  type ExporterFactory,
  type ProcessorFactory,
  type ReceiverFactory,
} from '../core/component.ts';
import type { Signal } from '../core/otlp/model.ts';
import type { KafkaBusOptions } from '../core/bus/kafka.ts';

export interface Configured<F extends ComponentFactory> {
  id: string;
  factory: F;
  config: unknown;
}

export interface PipelineConfig {
  /** Pipeline id, e.g. "traces" or "traces/agents". */
  id: string;
  signal: Signal;
  receivers: Configured<ReceiverFactory>[];
  processors: Configured<ProcessorFactory>[];
  exporters: Configured<ExporterFactory>[];
}

export interface BusConfig {
  topicPrefix: string;
  kafka: KafkaBusOptions;
  /** How far back a restarted stateful processor re-reads its output topic. */
  stateReplayWindowMs: number;
  /** Batches an exporter stage writes at once (Kafka: partitions consumed concurrently). */
  exportConcurrency: number;
}

export interface ServiceConfig {
  configDir: string;
  dataDir: string;
  bus: BusConfig;
  pipelines: PipelineConfig[];
  telemetry: { metricsAddress: string; logLevel: 'debug' | 'info' | 'warn' | 'error'; tracesEndpoint?: string };
}

export type FactoryLookup = (kind: ComponentFactory['kind'], type: string) => ComponentFactory | undefined;

const ID = /^[a-z][a-z0-9_]*(\/[A-Za-z0-9_.-]+)?$/;
const SECTIONS = { receiver: 'receivers', processor: 'processors', exporter: 'exporters' } as const;

export function parseServiceConfig(raw: Record<string, unknown>, lookup: FactoryLookup, configDir: string): ServiceConfig {
  const root = new Fields(raw, '');
  root.stringList('plugins'); // loaded before validation (service/plugins.ts); listed here so it is a known key
  const sections = {
    receiver: root.object('receivers'),
    processor: root.object('processors'),
    exporter: root.object('exporters'),
  };
  root.object('extensions'); // accepted for collector compatibility, no extensions yet

  const configured = new Map<string, Configured<ComponentFactory>>();
  const component = <F extends ComponentFactory>(kind: F['kind'], id: string, where: string): Configured<F> => {
    const section = sections[kind];
    const key = `${kind}:${id}`;
    const existing = configured.get(key);
    if (existing) return existing as Configured<F>;
    if (!section.has(id) && !section.keys().includes(id)) {
      throw new ConfigError(where, `${kind} "${id}" is not defined under ${SECTIONS[kind]}`);
    }
    if (!ID.test(id)) throw new ConfigError(section.at(id), `"${id}" is not a valid component id (type[/name])`);
    const type = id.split('/')[0]!;
    const factory = lookup(kind, type);
    if (!factory) {
      throw new ConfigError(section.at(id), `unknown ${kind} type "${type}" (is its plugin listed under plugins?)`);
    }
    const fields = section.object(id);
    const config = factory.parseConfig(fields);
    fields.done();
    const c = { id, factory, config } as Configured<F>;
    configured.set(key, c);
    return c;
  };

  const service = root.object('service');
  const pipelinesFields = service.object('pipelines');
  const pipelines: PipelineConfig[] = [];
  for (const id of pipelinesFields.keys()) {
    const signal = id.split('/')[0] as Signal;
    if (!['traces', 'logs', 'metrics'].includes(signal)) {
      pipelinesFields.fail(id, 'pipeline ids start with traces, logs or metrics (e.g. traces or traces/agents)');
    }
    const p = pipelinesFields.object(id);
    const list = (key: string) => p.stringList(key);
    const receivers = list('receivers').map((r, i) => component<ReceiverFactory>('receiver', r, `${p.at('receivers')}[${i}]`));
    const processors = list('processors').map((r, i) => component<ProcessorFactory>('processor', r, `${p.at('processors')}[${i}]`));
    const exporters = list('exporters').map((r, i) => component<ExporterFactory>('exporter', r, `${p.at('exporters')}[${i}]`));
    p.done();
    if (receivers.length === 0) p.fail('receivers', 'a pipeline needs at least one receiver');
    if (exporters.length === 0) p.fail('exporters', 'a pipeline needs at least one exporter');
    processors.forEach((proc, i) => {
      // Metrics never: no stage runs processors on them, whatever a plugin declares.
      if (signal === 'metrics' || !(processorSignals(proc.factory) as Signal[]).includes(signal))
        p.fail(`processors[${i}]`, `processor "${proc.id}" does not handle ${signal}`);
    });
    receivers.forEach((r, i) => {
      if (!r.factory.signals.includes(signal)) p.fail(`receivers[${i}]`, `receiver "${r.id}" does not receive ${signal}`);
    });
    exporters.forEach((e, i) => {
      if (!e.factory.signals.includes(signal)) p.fail(`exporters[${i}]`, `exporter "${e.id}" does not export ${signal}`);
    });
    pipelines.push({ id, signal, receivers, processors, exporters });
  }
  if (pipelines.length === 0) service.fail('pipelines', 'at least one pipeline is required');

  const telemetry = service.object('telemetry');
  const metrics = telemetry.object('metrics');
  const metricsAddress = metrics.string('address', '127.0.0.1:8888');
  metrics.done();
  const logs = telemetry.object('logs');
  const logLevel = logs.oneOf('level', ['debug', 'info', 'warn', 'error'] as const, 'info');
  logs.done();
  const traces = telemetry.object('traces');
  const tracesEndpoint = traces.optionalString('endpoint');
  traces.done();
  telemetry.done();
  service.done();

  const busFields = root.object('bus');
  const bus = parseBus(busFields);
  busFields.done();
  // Like the Collector's storage paths: relative to the working directory, not the config file.
  const dataDir = path.resolve(root.string('data_dir', '.data'));
  root.done();

  for (const kind of ['receiver', 'processor', 'exporter'] as const) {
    for (const id of sections[kind].keys()) {
      if (!configured.has(`${kind}:${id}`)) component(kind, id, sections[kind].at(id)); // validate unused ones too
    }
  }

  return { configDir, dataDir, bus, pipelines, telemetry: { metricsAddress, logLevel, tracesEndpoint } };
}

function parseBus(f: Fields): BusConfig {
  const topicPrefix = f.string('topic_prefix', 'agentotel.');
  const stateReplayWindowMs = f.duration('state_replay_window', 3_600_000);
  const exportConcurrency = f.int('export_concurrency', 4, { min: 1, max: 64 });
  const k = f.object('kafka');
  const brokers = k.stringList('brokers', ['127.0.0.1:9092']);
  const sasl = k.object('sasl');
  const mechanism = sasl.has('mechanism')
    ? sasl.oneOf('mechanism', ['plain', 'scram-sha-256', 'scram-sha-512'] as const, 'plain')
    : undefined;
  const kafka: KafkaBusOptions = {
    brokers,
    clientId: k.string('client_id', 'agentotel'),
    partitions: k.int('partitions', 4, { min: 1 }),
    replicationFactor: k.int('replication_factor', 1, { min: 1 }),
    tls: k.bool('tls', false),
    sasl: mechanism ? { mechanism, username: sasl.string('username'), password: sasl.string('password') } : undefined,
    sessionTimeoutMs: k.duration('session_timeout', 10_000),
    maxMessageBytes: k.size('max_message_bytes', 1_000_000),
  };
  sasl.done();
  k.done();
  return { topicPrefix, kafka, stateReplayWindowMs, exportConcurrency };
}
