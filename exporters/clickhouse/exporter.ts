/**
 * The ClickHouse exporter: maps OTLP data to contrib-layout rows, batches them across export
 * calls, inserts one JSONCompactEachRow batch per table with retries, and keeps nothing-lost,
 * nothing-twice through an outage: on a durable bus the export rejects (offsets stay
 * uncommitted) and redeliveries are checked against what is stored; in embedded mode the batch
 * goes to a disk spool that is re-driven when ClickHouse is back.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Delivery, Exporter, ExporterContext } from '../../core/component.ts';
import { log } from '../../core/log.ts';
import type { LogsData, MetricsData, Signal, SignalData, TracesData } from '../../core/otlp/model.ts';
import { Batcher, type BatchPart } from './batcher.ts';
import { createClickHouseClient, insertJsonCompactEachRow, insertJsonEachRow, type ClickHouseClient } from './client.ts';
import type { ClickHouseExporterConfig } from './config.ts';
import { ExportProgress, type Position } from './export-progress.ts';
import { exporterMetrics, type ExporterMetrics } from './exporter-metrics.ts';
import { candidateOf, notStored, storedCopies, type TableKind } from './identity.ts';
import { jsonCompactEachRow, jsonEachRow, type Row } from './json-each-row.ts';
import { logRows } from './log-rows.ts';
import { metricRows } from './metric-rows.ts';
import { runMigrations } from './migrations.ts';
import { Spool, type SpooledBatch } from './spool.ts';
import { traceRows } from './trace-rows.ts';

const EXPORT_PROGRESS_TABLE = 'agentotel_export_progress';

function rowsOf(signal: Signal, value: SignalData[Signal]): [TableKind, Row[]][] {
  if (signal === 'traces') return [['traces', traceRows(value as TracesData)]];
  if (signal === 'logs') return [['logs', logRows(value as LogsData)]];
  return [...metricRows(value as MetricsData)];
}

function append(into: Map<TableKind, Row[]>, kind: TableKind, rows: Row[]): void {
  if (rows.length === 0) return;
  const list = into.get(kind);
  if (list) for (const r of rows) list.push(r);
  else into.set(kind, [...rows]);
}

export class ClickHouseExporter implements Exporter {
  private client: ClickHouseClient | undefined;
  private progress: ExportProgress | undefined;
  private readonly spool: Spool;
  private readonly tables: Record<TableKind, string>;
  private readonly batcher: Batcher<TableKind, Row, Position>;
  private readonly metrics: ExporterMetrics;
  private readonly stopping = new AbortController();

  constructor(
    private readonly config: ClickHouseExporterConfig,
    private readonly ctx: ExporterContext,
  ) {
    const { database: db, tracesTable, logsTable, metricsTables: m } = config.schema;
    this.tables = {
      traces: `${db}.${tracesTable}`,
      logs: `${db}.${logsTable}`,
      gauge: `${db}.${m.gauge}`,
      sum: `${db}.${m.sum}`,
      histogram: `${db}.${m.histogram}`,
      exponential_histogram: `${db}.${m.exponential_histogram}`,
      summary: `${db}.${m.summary}`,
    };
    this.metrics = exporterMetrics(ctx.metrics, ctx.id);
    this.batcher = new Batcher(config.batch.maxSize, config.batch.timeoutMs, (batch) => this.write(batch));
    this.spool = new Spool(path.join(ctx.dataDir, 'spool'), (batch) => this.redrive(batch), (err, file) =>
      log('warn', 'clickhouse spool re-drive failed; will try again', { exporter: ctx.id, file, error: String(err) }),
    );
    this.metrics.trackSpool(() => this.spool.files().length);
  }

  async start(): Promise<void> {
    const client = createClickHouseClient(this.config.connection, this.ctx);
    this.client = client;
    if (this.config.createSchema) await runMigrations(client, this.config.schema);
    if (this.ctx.durableBus) this.progress = new ExportProgress(client, `${this.config.schema.database}.${EXPORT_PROGRESS_TABLE}`, this.ctx.id);
    // Leftover spool files from an earlier run are re-driven first, then whenever the loop ticks.
    this.spool.start(this.config.spool.redriveIntervalMs);
  }

  async export<S extends Signal>(signal: S, deliveries: Delivery<SignalData[S]>[]): Promise<void> {
    const possiblyStored = this.progress ? await this.progress.possiblyStored(deliveries) : () => false;
    const tables = new Map<TableKind, Row[]>();
    const suspects = new Map<TableKind, Row[]>();
    for (const d of deliveries) {
      for (const [kind, rows] of rowsOf(signal, d.value)) append(possiblyStored(d) ? suspects : tables, kind, rows);
    }
    for (const [kind, rows] of suspects) append(tables, kind, await this.withoutStored(kind, rows));
    await this.batcher.add({ tables, positions: deliveries.map(({ topic, partition, offset }) => ({ topic, partition, offset })) });
  }

  /** Re-drives the spool now; resolves with the number of spooled batches inserted. */
  drainSpool(): Promise<number> {
    return this.spool.drainOnce();
  }

  spooledBatches(): number {
    return this.spool.files().length;
  }

  async shutdown(): Promise<void> {
    this.stopping.abort();
    await this.batcher.drain();
    await this.spool.stop();
    await this.client?.close();
    this.client = undefined;
  }

  private requireClient(): ClickHouseClient {
    if (!this.client) throw new Error(`exporter ${this.ctx.id} is not started`);
    return this.client;
  }

  private async withoutStored(kind: TableKind, rows: Row[]): Promise<Row[]> {
    const candidates = rows.map((r) => candidateOf(kind, r));
    const keep = notStored(candidates, await storedCopies(this.requireClient(), this.tables[kind], kind, candidates));
    if (keep.length < rows.length) this.metrics.duplicates(this.tables[kind], rows.length - keep.length);
    return keep.map((i) => rows[i]!);
  }

  private async insert(kind: TableKind, rows: number, write: (client: ClickHouseClient, table: string) => Promise<void>): Promise<void> {
    const table = this.tables[kind];
    const started = performance.now();
    await write(this.requireClient(), table);
    this.metrics.written(table, rows, (performance.now() - started) / 1_000);
  }

  /** One flush: records progress (durable bus), then one insert per table, retrying what failed. */
  private async write({ tables, positions }: BatchPart<TableKind, Row, Position>): Promise<void> {
    const { retry } = this.config;
    const remaining = new Map(tables);
    const started = Date.now();
    let progressRecorded = !this.progress;
    let delay = retry.initialIntervalMs;
    for (let attempt = 0; ; attempt++) {
      let target = `${this.config.schema.database}.${EXPORT_PROGRESS_TABLE}`;
      try {
        if (!progressRecorded) {
          await this.progress!.record(positions);
          progressRecorded = true;
        }
        for (const [kind, rows] of remaining) {
          target = this.tables[kind];
          // A failed insert may still have landed (a timeout over HTTP): later attempts skip stored rows.
          const pending = attempt > 0 ? await this.withoutStored(kind, rows) : rows;
          if (pending.length > 0) {
            await this.insert(kind, pending.length, (client, table) => insertJsonCompactEachRow(client, table, jsonCompactEachRow(pending)));
          }
          remaining.delete(kind);
        }
        return;
      } catch (err) {
        this.metrics.failed(target);
        const outOfTime = retry.maxElapsedMs > 0 && Date.now() - started + delay > retry.maxElapsedMs;
        if (!retry.enabled || outOfTime || this.stopping.signal.aborted) return this.giveUp(remaining, err);
        log('warn', 'clickhouse insert failed; retrying', { exporter: this.ctx.id, attempt: attempt + 1, retryInMs: delay, error: String(err) });
        this.metrics.retried();
        await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => {});
        delay = Math.min(delay * retry.multiplier, retry.maxIntervalMs);
      }
    }
  }

  /** Durable bus: reject, so the offsets stay uncommitted. Embedded: spool to disk and resolve. */
  private giveUp(remaining: Map<TableKind, Row[]>, err: unknown): void {
    if (this.ctx.durableBus) throw err;
    for (const [kind, rows] of remaining) {
      this.spool.write({ kind, candidates: rows.map((r) => candidateOf(kind, r)) }, jsonEachRow(rows));
      this.metrics.spooled();
    }
    log('warn', 'clickhouse unavailable; batch spooled to disk', { exporter: this.ctx.id, tables: [...remaining.keys()], error: String(err) });
  }

  private async redrive({ header, lines }: SpooledBatch): Promise<void> {
    const copies = await storedCopies(this.requireClient(), this.tables[header.kind], header.kind, header.candidates);
    const keep = notStored(header.candidates, copies);
    if (keep.length < lines.length) this.metrics.duplicates(this.tables[header.kind], lines.length - keep.length);
    if (keep.length > 0) {
      const body = keep.map((i) => `${lines[i]}\n`).join('');
      await this.insert(header.kind, keep.length, (client, table) => insertJsonEachRow(client, table, body));
    }
    this.metrics.redriven();
  }
}
