/** The ClickHouse exporter (type "clickhouse"): traces, logs and metrics into contrib-layout tables. */
import type { ExporterFactory } from '../../core/component.ts';
import { parseConfig, type ClickHouseExporterConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';

export const clickhouseExporterFactory: ExporterFactory<ClickHouseExporterConfig> = {
  kind: 'exporter',
  type: 'clickhouse',
  signals: ['traces', 'logs', 'metrics'],
  parseConfig,
  create: (config, context) => new ClickHouseExporter(config, context),
};

export { ClickHouseExporter } from './exporter.ts';
export { parseConfig, EMBEDDED, type ClickHouseExporterConfig, type ConnectionConfig, type SchemaConfig } from './config.ts';
export { createClickHouseClient, embeddedPath, queryRows, type ClickHouseClient, type ClientLocation } from './client.ts';
export { runMigrations } from './migrations.ts';
