/** Running the default pipeline (config/agentotel.yaml) in tests: env, config, and ClickHouse look-ups. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClickHouseClient, queryRows, type ClickHouseClient } from '../../exporters/clickhouse/index.ts';

export const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const defaultConfigFile = path.join(repoRoot, 'config/agentotel.yaml');
export const INGEST_TOKEN = 'test-ingest-token';

export function tempDir(name: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `agentotel-${name}-`));
}

/** Environment for the default config: ephemeral ports, a data dir, a known ingest token. */
export function pipelineEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AGENTOTEL_DATA_DIR: dataDir,
    AGENTOTEL_OTLP_GRPC_ENDPOINT: '127.0.0.1:0',
    AGENTOTEL_OTLP_HTTP_ENDPOINT: '127.0.0.1:0',
    AGENTOTEL_HOOKS_ENDPOINT: '127.0.0.1:0',
    AGENTOTEL_CLAUDE_PROJECTS_DIR: path.join(dataDir, 'claude-projects'), // never the real ~/.claude
    AGENTOTEL_TELEMETRY_ADDRESS: '127.0.0.1:0',
    AGENTOTEL_INGEST_TOKEN: INGEST_TOKEN,
    AGENTOTEL_LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** A client on the embedded engine the default config's clickhouse exporter writes to. */
export function embeddedClient(dataDir: string): ClickHouseClient {
  return createClickHouseClient(
    { endpoint: 'embedded', path: undefined, username: 'default', password: '', timeoutMs: 30_000 },
    { dataDir: path.join(dataDir, 'clickhouse'), configDir: repoRoot },
  );
}

export async function count(client: ClickHouseClient, sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const [row] = await queryRows<{ n: string | number }>(client, sql, params);
  return Number(row?.n ?? 0);
}
