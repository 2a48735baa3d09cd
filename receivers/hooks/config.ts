/**
 * Config of the hooks receiver:
 *
 *   receivers:
 *     hooks:
 *       endpoint: 127.0.0.1:4319
 *       auth:
 *         tokens: [ "${env:AGENTOTEL_INGEST_TOKEN}" ]
 *       max_body_size: 1MiB
 *       queue_size: 10000
 *       batch_size: 50
 *       spool:
 *         max_size: 256MiB
 *       retry:
 *         initial_interval: 1s
 *         max_interval: 30s
 *
 * The endpoint and token rules are the OTLP receiver's (same parser, same messages).
 */
import { Fields } from '../../core/config/fields.ts';
import { type Endpoint, parseEndpoint, parseTokens } from '../../core/http/listen-config.ts';

export interface HooksReceiverConfig {
  endpoint: Endpoint;
  /** Accepted bearer tokens; empty means no authentication. */
  tokens: string[];
  /** Largest accepted request body in bytes (413 above). */
  maxBodySize: number;
  /** Accepted payloads held in memory before they are published or spooled (503 above). */
  queueSize: number;
  /** Payloads published to the pipeline together. */
  batchSize: number;
  /** Bytes of the disk spool that keeps accepted payloads while the pipeline is unavailable. */
  spoolMaxSize: number;
  /** First and largest wait before the pipeline is tried again, in ms. */
  retryInitialMs: number;
  retryMaxMs: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_ENDPOINT = '127.0.0.1:4319';
export const DEFAULT_MAX_BODY_SIZE = MiB;
export const DEFAULT_QUEUE_SIZE = 10_000;
export const DEFAULT_BATCH_SIZE = 50;
export const DEFAULT_SPOOL_MAX_SIZE = 256 * MiB;
export const DEFAULT_RETRY_INITIAL_MS = 1_000;
export const DEFAULT_RETRY_MAX_MS = 30_000;

export function parseConfig(fields: Fields): HooksReceiverConfig {
  const endpoint = parseEndpoint(fields, DEFAULT_ENDPOINT);
  const tokens = parseTokens(fields.object('auth'));
  const maxBodySize = fields.size('max_body_size', DEFAULT_MAX_BODY_SIZE);
  if (maxBodySize < 1) fields.fail('max_body_size', 'must be at least 1 byte');
  const queueSize = fields.int('queue_size', DEFAULT_QUEUE_SIZE, { min: 1 });
  const batchSize = fields.int('batch_size', DEFAULT_BATCH_SIZE, { min: 1, max: queueSize });

  const spool = fields.object('spool');
  const spoolMaxSize = spool.size('max_size', DEFAULT_SPOOL_MAX_SIZE);
  spool.done();

  const retry = fields.object('retry');
  const retryInitialMs = retry.duration('initial_interval', DEFAULT_RETRY_INITIAL_MS);
  if (retryInitialMs < 1) retry.fail('initial_interval', 'must be at least 1ms');
  const retryMaxMs = retry.duration('max_interval', DEFAULT_RETRY_MAX_MS);
  if (retryMaxMs < retryInitialMs) retry.fail('max_interval', `must not be shorter than initial_interval (${retryInitialMs} ms)`);
  retry.done();

  fields.done();
  return { endpoint, tokens, maxBodySize, queueSize, batchSize, spoolMaxSize, retryInitialMs, retryMaxMs };
}
