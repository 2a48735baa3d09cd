/**
 * agentotel — command line entry point.
 *   up                     embedded mode: everything in one process (in-process bus, embedded ClickHouse)
 *   receiver               distributed: the receivers, publishing to Kafka
 *   worker <processor>[,…] distributed: one processor (or consecutive ones together) as its own consumer group
 *   exporter [id]          distributed: the exporters (all, or one), reading Kafka
 *   validate               checks the config and exits
 *   init | status | hook   wire a coding agent, check the wiring, the command hook (own flags: <command> --help)
 *   import <dir>           one-shot backfill of agent transcripts to a running agentotel (own flags: import --help)
 *   reprice                stored model calls priced again with the current pricing table (own flags: reprice --help)
 *   dlq list|replay        dead letters, and sending them again after a fix (own flags: dlq --help)
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/config/fields.ts';
import {
  loadServiceConfig,
  runEmbedded,
  runExporterRole,
  runReceiverRole,
  runWorkerRole,
  type RunningService,
} from '../service/service.ts';
import { startSelfTelemetry, stopSelfTelemetry } from '../service/self-telemetry.ts';
import { printUpBanner, prepareIngestToken } from './up.ts';

const DEFAULT_CONFIG = fileURLToPath(new URL('../config/agentotel.yaml', import.meta.url));

const USAGE = `usage: agentotel <command> [options]

commands:
  up                    run everything in one process (embedded mode)
  receiver              run the receivers, publishing to Kafka
  worker <processor>    run one processor (redaction, enrichment, dedupe, ...) on Kafka;
                        a comma list of consecutive ones runs them together (fewer hops)
  exporter [id]         run the exporters on Kafka (all, or the one named)
  validate              check the config and exit
  init                  wire a coding agent (Claude Code, Codex, Gemini CLI) to agentotel: init --help
  status                check an agent's wiring and the collector: status --help
  hook                  the command hook \`init --hooks command\` installs (payload on stdin)
  import <dir>          send the transcripts under <dir> to a running agentotel: import --help
  reprice               price stored model calls again after the pricing table changed: reprice --help
  dlq list|replay       dead letters by stage and error; send them again after a fix: dlq --help

options:
  -c, --config <file>           config file (default: the bundled config/agentotel.yaml)
      --telemetry-address <h:p> address of /healthz and /metrics for this process
      --pipeline <id>           with worker: only this pipeline (default: every pipeline of its processors)
      --json                    with up: print a JSON status line instead of the banner
  -h, --help`;

async function main(argv: string[]): Promise<number> {
  const [sub, ...subArgs] = argv;
  if (sub === 'init') return (await import('./init.ts')).runInit(subArgs);
  if (sub === 'status') return (await import('./status.ts')).runStatus(subArgs);
  if (sub === 'hook') return (await import('./hook.ts')).runHook(subArgs);
  if (sub === 'import') return (await import('./import.ts')).runImport(subArgs);
  if (sub === 'reprice') return (await import('./reprice.ts')).runReprice(subArgs);
  if (sub === 'dlq') return (await import('./dlq.ts')).runDlq(subArgs);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'telemetry-address': { type: 'string' },
      pipeline: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const configFile = values.config ?? DEFAULT_CONFIG;
  const options = { telemetryAddress: values['telemetry-address'], pipeline: values.pipeline };

  const tokenFrom = command === 'up' ? await prepareIngestToken() : undefined;
  const config = await loadServiceConfig(configFile);
  let running: RunningService;
  switch (command) {
    case 'validate':
      console.log(`${configFile}: ok (${config.pipelines.map((p) => p.id).join(', ')})`);
      return 0;
    case 'up':
      startSelfTelemetry('embedded', config.telemetry.tracesEndpoint);
      running = await runEmbedded(config, options);
      if (!values.json) printUpBanner(config, running, tokenFrom);
      break;
    case 'receiver':
      startSelfTelemetry('receiver', config.telemetry.tracesEndpoint);
      running = await runReceiverRole(config, options);
      break;
    case 'worker':
      if (!arg) throw new UsageError('worker needs a processor id, e.g. agentotel worker redaction');
      startSelfTelemetry(`worker-${arg}`, config.telemetry.tracesEndpoint);
      running = await runWorkerRole(config, arg.split(','), options);
      break;
    case 'exporter':
      startSelfTelemetry(`exporter-${arg ?? 'all'}`, config.telemetry.tracesEndpoint);
      running = await runExporterRole(config, arg, options);
      break;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
  if (command !== 'up' || values.json) {
    console.log(JSON.stringify({ status: 'running', role: command, arg, pid: process.pid, endpoints: running.endpoints }));
  }
  await untilSignal();
  await running.stop();
  await stopSelfTelemetry();
  return 0;
}

class UsageError extends Error {}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(`config error: ${err.message}`);
    else if (err instanceof UsageError) console.error(`${err.message}\n\n${USAGE}`);
    else console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(err instanceof ConfigError || err instanceof UsageError ? 2 : 1);
  },
);
