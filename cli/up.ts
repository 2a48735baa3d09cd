/** What `agentotel up` does besides running: an ingest token on first start, and the banner. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ServiceConfig } from '../service/config.ts';
import type { RunningService } from '../service/service.ts';

export function tokenFile(): string {
  return path.resolve(process.env.AGENTOTEL_DATA_DIR || '.data', 'ingest-token');
}

/**
 * Receivers take tokens. When AGENTOTEL_INGEST_TOKEN is not set, `up` creates one in the data
 * directory (mode 0600) on first start and uses it; the banner tells agents to read that file,
 * so the token itself is never printed.
 */
export async function prepareIngestToken(): Promise<string | undefined> {
  if (process.env.AGENTOTEL_INGEST_TOKEN) return undefined;
  const file = tokenFile();
  let token = await readFile(file, 'utf8').then(
    (t) => t.trim(),
    () => '',
  );
  if (!token) {
    token = randomBytes(24).toString('base64url');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, token + '\n', { mode: 0o600 });
  }
  process.env.AGENTOTEL_INGEST_TOKEN = token;
  return file;
}

/** `tokenFrom`: the file the ingest token was read from, or undefined when it came from the environment. */
export function printUpBanner(config: ServiceConfig, running: RunningService, tokenFrom: string | undefined): void {
  const e = running.endpoints;
  const grpc = e['otlp.grpc'];
  const http = e['otlp.http'];
  const hooks = e['hooks.http'];
  const lines = [
    'agentotel is up (embedded mode: in-process bus, embedded ClickHouse)',
    grpc && `  OTLP/gRPC   ${grpc}`,
    http && `  OTLP/HTTP   http://${http}  (/v1/traces, /v1/logs, /v1/metrics)`,
    hooks && `  hooks       http://${hooks}/v1/hooks  (Claude Code "type": "http" hooks)`,
    `  health      http://${e.telemetry}/healthz   metrics http://${e.telemetry}/metrics`,
    `  data        ${config.dataDir}`,
    '',
    'Point Claude Code at it (in the shell that runs `claude`, or in ~/.claude/settings.json "env"):',
    '  export CLAUDE_CODE_ENABLE_TELEMETRY=1',
    '  export OTEL_METRICS_EXPORTER=otlp OTEL_LOGS_EXPORTER=otlp',
    grpc
      ? `  export OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=http://${grpc}`
      : `  export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_ENDPOINT=http://${http}`,
    tokenFrom
      ? `  export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer $(cat ${tokenFrom})"`
      : '  export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer $AGENTOTEL_INGEST_TOKEN"',
    '  export OTEL_RESOURCE_ATTRIBUTES="team=<your team>,user.email=<you>"',
    '',
    'Stop with Ctrl-C (in-flight data is flushed first).',
  ];
  console.log(lines.filter((l) => typeof l === 'string').join('\n'));
}
