/**
 * Versioned, idempotent schema migrations: the .sql files in migrations/ run in order, each once,
 * recorded in agentotel_schema_migrations with the checksum of the file. A file that changed after
 * it was applied is an error (write a new migration instead).
 *
 * The files are templates with a tiny substitution: {{name}} for identifiers and clauses computed
 * from the config, and {{ttl:<time expression>}} for the table's TTL clause (empty without ttl).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { ClickHouseClient } from './client.ts';
import { queryRows } from './client.ts';
import { isIdentifier, type SchemaConfig } from './config.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const MIGRATIONS_TABLE = 'agentotel_schema_migrations';

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  template: string;
}

export function loadMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const m = FILE_NAME.exec(file);
      if (!m) throw new Error(`migration file ${file} must be named NNNN_name.sql`);
      const template = readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8');
      return { version: Number(m[1]), name: m[2]!, checksum: createHash('sha256').update(template).digest('hex'), template };
    });
}

/** As the contrib exporter's GenerateTTLExpr: the largest unit that divides the duration. */
export function ttlClause(ttlMs: number, timeExpression: string): string {
  if (ttlMs <= 0) return '';
  const s = ttlMs / 1_000;
  if (s % 86_400 === 0) return `TTL ${timeExpression} + toIntervalDay(${s / 86_400})`;
  if (s % 3_600 === 0) return `TTL ${timeExpression} + toIntervalHour(${s / 3_600})`;
  if (s % 60 === 0) return `TTL ${timeExpression} + toIntervalMinute(${s / 60})`;
  return `TTL ${timeExpression} + toIntervalSecond(${s})`;
}

export function templateVariables(schema: SchemaConfig): Record<string, string> {
  const names: Record<string, string> = {
    database: schema.database,
    traces_table: schema.tracesTable,
    logs_table: schema.logsTable,
    metrics_gauge_table: schema.metricsTables.gauge,
    metrics_sum_table: schema.metricsTables.sum,
    metrics_summary_table: schema.metricsTables.summary,
    metrics_histogram_table: schema.metricsTables.histogram,
    metrics_exponential_histogram_table: schema.metricsTables.exponential_histogram,
  };
  for (const [key, value] of Object.entries(names)) {
    if (!isIdentifier(value)) throw new Error(`${key}: ${JSON.stringify(value)} is not a ClickHouse identifier`);
  }
  const { name, params } = schema.tableEngine;
  if (!isIdentifier(name) || /[;\n\r]|--|\/\*/.test(params)) throw new Error(`table_engine: invalid engine ${JSON.stringify(`${name}(${params})`)}`);
  if (schema.clusterName && !isIdentifier(schema.clusterName)) throw new Error(`cluster_name: ${JSON.stringify(schema.clusterName)} is not a ClickHouse identifier`);
  return { ...names, engine: `${name}(${params})`, on_cluster: schema.clusterName ? `ON CLUSTER ${schema.clusterName}` : '' };
}

export function renderTemplate(template: string, vars: Record<string, string>, ttlMs: number): string {
  return template.replace(/\{\{\s*([a-z_]+)(?::([^}]+))?\s*\}\}/g, (whole, name: string, arg: string | undefined) => {
    if (name === 'ttl' && arg !== undefined) return ttlClause(ttlMs, arg.trim());
    const v = vars[name];
    if (v === undefined || arg !== undefined) throw new Error(`unknown template placeholder ${whole}`);
    return v;
  });
}

/** The statements of a rendered file: comment lines dropped, split at a ";" that ends a line. */
export function statements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean);
}

interface AppliedRow {
  version: number;
  checksum: string;
}

/** Creates the database if missing and applies the migrations not applied yet; returns the versions it applied. */
export async function runMigrations(client: ClickHouseClient, schema: SchemaConfig, migrations = loadMigrations()): Promise<number[]> {
  const vars = templateVariables(schema);
  const db = schema.database;
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db} ${vars.on_cluster}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.${MIGRATIONS_TABLE} ${vars.on_cluster} (
      version UInt32, name String, applied_at DateTime64(3) DEFAULT now64(3), checksum String
    ) ENGINE = MergeTree ORDER BY version`,
  });
  const applied = new Map(
    (await queryRows<AppliedRow>(client, `SELECT version, any(checksum) AS checksum FROM ${db}.${MIGRATIONS_TABLE} GROUP BY version`)).map((r) => [Number(r.version), r.checksum]),
  );
  const done: number[] = [];
  for (const m of migrations) {
    const recorded = applied.get(m.version);
    if (recorded !== undefined) {
      if (recorded !== m.checksum) throw new Error(`migration ${m.version} (${m.name}) changed after it was applied to ${db}; add a new migration instead`);
      continue;
    }
    for (const statement of statements(renderTemplate(m.template, vars, schema.ttlMs))) await client.command({ query: statement });
    await client.insert({ table: `${db}.${MIGRATIONS_TABLE}`, values: [{ version: m.version, name: m.name, checksum: m.checksum }], format: 'JSONEachRow' });
    done.push(m.version);
  }
  return done;
}
