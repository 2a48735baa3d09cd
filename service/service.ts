/**
 * Assembles pipelines from config and runs them: everything in one process on the
 * in-process bus (embedded mode, `agentotel up`), or one role per process on Kafka
 * (distributed mode: `agentotel receiver`, `worker <processor>`, `exporter <id>`).
 */
import path from 'node:path';
import type { Bus } from '../core/bus/bus.ts';
import { InProcessBus } from '../core/bus/inprocess.ts';
import { KafkaBus } from '../core/bus/kafka.ts';
import type { Exporter, ProcessorContext, PublishedMessage } from '../core/component.ts';
import { readConfigFile } from '../core/config/load.ts';
import { MetricsRegistry } from '../core/metrics.ts';
import { log, setLogLevel } from '../core/log.ts';
import { factoryLookup } from './components.ts';
import { parseServiceConfig, type ServiceConfig } from './config.ts';
import { componentContext } from './context.ts';
import { busDeadLetters, fileDeadLetters, startRedrive, type DeadLetterSink } from './deadletters.ts';
import { pipelineTopics } from './deadletter-replay.ts';
import { runExporterStage } from './exporter-stage.ts';
import { loadPlugins } from './plugins.ts';
import { runProcessorStage, type RunningStage } from './processor-stage.ts';
import { startReceivers, type ReceiverHost } from './receiver-host.ts';
import { startTelemetryServer, type TelemetryServer } from './telemetry-server.ts';
import { chainProcessors } from './processor-chain.ts';
import {
  allTopics,
  exportTopic,
  exporterGroup,
  findProcessorStages,
  processorStage,
  stageProcessors,
  type AnyProcessorStage,
  type ProcessorStage,
} from './topology.ts';

export async function loadServiceConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ServiceConfig> {
  const raw = readConfigFile(file, env);
  const configDir = path.dirname(path.resolve(file));
  const plugins = await loadPlugins(raw.plugins, configDir);
  return parseServiceConfig(raw, factoryLookup(plugins), configDir);
}

export interface RunOptions {
  /** Overrides service.telemetry.metrics.address (each process on a machine needs its own). */
  telemetryAddress?: string;
}

export interface RunningService {
  /** Listening addresses: receivers' endpoints and the telemetry server. */
  endpoints: Record<string, string>;
  metrics: MetricsRegistry;
  /** Graceful stop: no new input, in-flight work finished and committed, sinks flushed. */
  stop(): Promise<void>;
}

async function startStages(
  config: ServiceConfig,
  bus: Bus,
  stages: AnyProcessorStage[],
  deadLetters: DeadLetterSink,
  metrics: MetricsRegistry,
): Promise<RunningStage[]> {
  const running: RunningStage[] = [];
  for (const stage of stages) {
    // Only traces are rebuilt from the output topic (a logs stage never calls assign).
    const traces = stage.pipeline.signal === 'traces' ? (stage as ProcessorStage<'traces'>) : undefined;
    const chain = stageProcessors(stage).map((c) => {
      const context: ProcessorContext = {
        ...componentContext(config, c.id, metrics),
        recentOutput: (o) =>
          (traces && bus.replay?.(traces.output, o?.sinceMs ?? config.bus.stateReplayWindowMs, o?.partitions)) ?? emptyReplay(),
      };
      return { id: c.id, processor: c.factory.create(c.config, context) };
    });
    running.push(await runProcessorStage(bus, stage, chainProcessors(chain), deadLetters, metrics));
  }
  return running;
}

async function* emptyReplay(): AsyncIterable<PublishedMessage> {}

async function startExporters(
  config: ServiceConfig,
  bus: Bus,
  only: string | undefined,
  deadLetters: DeadLetterSink,
  metrics: MetricsRegistry,
): Promise<{ stages: RunningStage[]; exporters: Exporter[] }> {
  const exporters = new Map<string, Exporter>();
  const stages: RunningStage[] = [];
  for (const p of config.pipelines) {
    for (const e of p.exporters) {
      if (only && e.id !== only) continue;
      let exporter = exporters.get(e.id);
      if (!exporter) {
        exporter = e.factory.create(e.config, { ...componentContext(config, e.id, metrics), durableBus: bus.kind === 'kafka' });
        await exporter.start();
        exporters.set(e.id, exporter);
      }
      const topic = exportTopic(config.bus.topicPrefix, p);
      stages.push(
        await runExporterStage(
          bus,
          {
            signal: p.signal,
            topic,
            group: exporterGroup(config.bus.topicPrefix, p, e.id),
            exporterId: e.id,
            exporter,
            concurrency: config.bus.exportConcurrency,
          },
          deadLetters,
          metrics,
        ),
      );
    }
  }
  if (only && exporters.size === 0) throw new Error(`no pipeline has an exporter "${only}"`);
  return { stages, exporters: [...exporters.values()] };
}

async function withTelemetry(
  config: ServiceConfig,
  options: RunOptions,
  metrics: MetricsRegistry,
  parts: { endpoints?: Record<string, string>; stop: () => Promise<void> },
): Promise<RunningService> {
  let ready = false;
  const server: TelemetryServer = await startTelemetryServer(
    options.telemetryAddress ?? config.telemetry.metricsAddress,
    metrics,
    () => ready,
  );
  ready = true;
  return {
    endpoints: { ...parts.endpoints, telemetry: server.address },
    metrics,
    stop: async () => {
      ready = false;
      await parts.stop();
      await server.close();
    },
  };
}

function receiverEndpoints(host: ReceiverHost): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, r] of host.receivers) for (const [k, v] of Object.entries(r.endpoints?.() ?? {})) out[`${id}.${k}`] = v;
  return out;
}

async function waitUntilDrained(stages: RunningStage[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (stages.some((s) => s.lag() > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Embedded mode: receivers, every processor and the exporters in this process, on the in-process bus. */
export async function runEmbedded(config: ServiceConfig, options: RunOptions = {}): Promise<RunningService> {
  setLogLevel(config.telemetry.logLevel);
  const metrics = new MetricsRegistry();
  const bus = new InProcessBus();
  const deadLetters = fileDeadLetters(config.dataDir);
  const { stages: exportStages, exporters } = await startExporters(config, bus, undefined, deadLetters, metrics);
  const stages = config.pipelines.flatMap((p) => p.processors.map((_, i) => processorStage(config.bus.topicPrefix, p, i)));
  const processorStages = await startStages(config, bus, stages, deadLetters, metrics);
  const receivers = await startReceivers(config, bus, metrics);
  const redrive = startRedrive(bus, pipelineTopics(config), config.dataDir); // what `agentotel dlq replay` queued
  return withTelemetry(config, options, metrics, {
    endpoints: receiverEndpoints(receivers),
    stop: async () => {
      await redrive.stop();
      await receivers.shutdown();
      // Stages were started in pipeline order; drain each before stopping the next.
      for (const s of [...processorStages, ...exportStages]) {
        await waitUntilDrained([s], 30_000);
        await s.stop();
      }
      await Promise.all(exporters.map((e) => e.shutdown()));
      await bus.close();
    },
  });
}

function kafkaBus(config: ServiceConfig, role: string): KafkaBus {
  return new KafkaBus({ ...config.bus.kafka, clientId: `${config.bus.kafka.clientId}-${role}` });
}

/** Distributed mode: the receivers, publishing to Kafka. */
export async function runReceiverRole(config: ServiceConfig, options: RunOptions = {}): Promise<RunningService> {
  setLogLevel(config.telemetry.logLevel);
  const metrics = new MetricsRegistry();
  const bus = kafkaBus(config, 'receiver');
  await bus.ensureTopics(allTopics(config));
  const receivers = await startReceivers(config, bus, metrics);
  return withTelemetry(config, options, metrics, {
    endpoints: receiverEndpoints(receivers),
    stop: async () => {
      await receivers.shutdown();
      await bus.close();
    },
  });
}

/**
 * Distributed mode: one processor, or consecutive ones together, as its own consumer group; in
 * each pipeline it is in (redaction: traces and logs) unless `pipeline` picks one.
 */
export async function runWorkerRole(
  config: ServiceConfig,
  processorIds: string[],
  options: RunOptions & { pipeline?: string } = {},
): Promise<RunningService> {
  setLogLevel(config.telemetry.logLevel);
  const metrics = new MetricsRegistry();
  const stages = findProcessorStages(config, processorIds, options.pipeline);
  const processorId = processorIds.join('+');
  const bus = kafkaBus(config, `worker-${processorId.replace(/\//g, '-')}`);
  await bus.ensureTopics(allTopics(config));
  const running = await startStages(config, bus, stages, busDeadLetters(bus, config.bus.topicPrefix), metrics);
  for (const stage of stages) {
    log('info', `worker ${processorId} consuming ${stage.input.name} → ${stage.output.name}`, { group: stage.group });
  }
  return withTelemetry(config, options, metrics, {
    stop: async () => {
      await Promise.all(running.map((r) => r.stop()));
      await bus.close();
    },
  });
}

/** Distributed mode: exporters (all, or one by id) reading the pipelines' last topics. */
export async function runExporterRole(
  config: ServiceConfig,
  exporterId: string | undefined,
  options: RunOptions = {},
): Promise<RunningService> {
  setLogLevel(config.telemetry.logLevel);
  const metrics = new MetricsRegistry();
  const bus = kafkaBus(config, `exporter-${(exporterId ?? 'all').replace(/\//g, '-')}`);
  await bus.ensureTopics(allTopics(config));
  const { stages, exporters } = await startExporters(config, bus, exporterId, busDeadLetters(bus, config.bus.topicPrefix), metrics);
  return withTelemetry(config, options, metrics, {
    stop: async () => {
      await Promise.all(stages.map((s) => s.stop()));
      await Promise.all(exporters.map((e) => e.shutdown()));
      await bus.close();
    },
  });
}
