/** The exporter's own telemetry on the process's Prometheus registry. */
import type { MetricsRegistry } from '../../core/metrics.ts';

export function exporterMetrics(registry: MetricsRegistry, exporter: string) {
  const rows = registry.counter('agentotel_clickhouse_rows_written_total', 'Rows inserted into ClickHouse, per table');
  const latency = registry.histogram('agentotel_clickhouse_insert_duration_seconds', 'Duration of one INSERT into ClickHouse, per table');
  const failures = registry.counter('agentotel_clickhouse_insert_failures_total', 'Failed write attempts (insert or its duplicate check), per table');
  const retries = registry.counter('agentotel_clickhouse_retries_total', 'Batches retried after a failed insert');
  const spooled = registry.counter('agentotel_clickhouse_spooled_batches_total', 'Batches written to the disk spool after the retry budget ran out');
  const redriven = registry.counter('agentotel_clickhouse_spool_redriven_batches_total', 'Spooled batches inserted and removed from the spool');
  const duplicates = registry.counter('agentotel_clickhouse_duplicate_rows_dropped_total', 'Rows not inserted because they were already stored, per table');
  const spoolFiles = registry.gauge('agentotel_clickhouse_spool_files', 'Batches waiting in the disk spool');
  return {
    written: (table: string, n: number, seconds: number) => {
      rows.inc({ exporter, table }, n);
      latency.observe({ exporter, table }, seconds);
    },
    failed: (table: string) => failures.inc({ exporter, table }),
    retried: () => retries.inc({ exporter }),
    spooled: () => spooled.inc({ exporter }),
    redriven: () => redriven.inc({ exporter }),
    duplicates: (table: string, n: number) => duplicates.inc({ exporter, table }, n),
    trackSpool: (files: () => number) => spoolFiles.track({ exporter }, files),
  };
}

export type ExporterMetrics = ReturnType<typeof exporterMetrics>;
