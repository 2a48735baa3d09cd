/**
 * One client for both ways in: `@clickhouse/client` over HTTP to a ClickHouse server, or the same
 * client given the embedded engine (chdb). Everything above this module speaks the same SQL to
 * either. The embedded engine binds one data directory per process: several clients on the same
 * path share it, a second path is rejected by chdb.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { EMBEDDED, type ConnectionConfig } from './config.ts';
import type { CompactRows } from './json-each-row.ts';

export type { ClickHouseClient };

export interface ClientLocation {
  /** Directory for component state; the embedded engine defaults to <dataDir>/clickhouse. */
  dataDir: string;
  /** Directory of the config file; a relative `path` resolves against it. */
  configDir: string;
}

export function embeddedPath(config: ConnectionConfig, where: ClientLocation): string {
  if (config.path === undefined) return path.join(where.dataDir, 'clickhouse');
  return path.resolve(where.configDir, config.path);
}

export function createClickHouseClient(config: ConnectionConfig, where: ClientLocation): ClickHouseClient {
  if (config.endpoint === EMBEDDED) {
    const dir = embeddedPath(config, where);
    mkdirSync(dir, { recursive: true });
    // chdb implements the client's Connection against @clickhouse/client-common's copy of the
    // types, which @clickhouse/client bundles under another path: same shape, different nominal types.
    const connection = createChdbConnection({ path: dir }) as unknown as ClickHouseClientConfigOptions['connection'];
    return createClient({ connection });
  }
  return createClient({
    url: config.endpoint,
    username: config.username,
    password: config.password,
    request_timeout: config.timeoutMs,
  });
}

/** Runs `INSERT INTO <table> FORMAT JSONEachRow` with a body that is already JSONEachRow text. */
export function insertJsonEachRow(client: ClickHouseClient, table: string, body: string): Promise<void> {
  return insertText(client, `INSERT INTO ${table} FORMAT JSONEachRow`, body);
}

/** Runs `INSERT INTO <table> (<columns>) FORMAT JSONCompactEachRow` with rows already in that format. */
export function insertJsonCompactEachRow(client: ClickHouseClient, table: string, { columns, body }: CompactRows): Promise<void> {
  const list = columns.map((c) => `\`${c}\``).join(', ');
  return insertText(client, `INSERT INTO ${table} (${list}) FORMAT JSONCompactEachRow`, body);
}

async function insertText(client: ClickHouseClient, query: string, body: string): Promise<void> {
  const result = await client.exec({ query, values: Readable.from([body]) });
  // The response body must be consumed, or an HTTP socket stays busy.
  for await (const _ of result.stream) void _;
}

export async function queryRows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}
