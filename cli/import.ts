/**
 * `agentotel import <dir>`: a one-shot backfill of an agent's transcripts. Parses every
 * transcript under <dir> with the transcripts receiver's formats and sends the spans as
 * OTLP/HTTP protobuf to a running agentotel (embedded or distributed: any OTLP receiver).
 * Importing twice is harmless: span ids are deterministic.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { capturesToTraces, type AgentName } from '../core/agent/session-spans.ts';
import { encodeProtobuf, responseType } from '../core/otlp/codec.ts';
import type { TracesData } from '../core/otlp/model.ts';
import { countSpans, filterSpans } from '../core/otlp/traces.ts';
import type { OtlpReceiverConfig } from '../receivers/otlp/index.ts';
import { findTranscripts, readTranscript } from '../receivers/transcripts/backfill.ts';
import { AGENTS } from '../receivers/transcripts/config.ts';
import { transcriptFormats } from '../receivers/transcripts/formats.ts';
import { loadServiceConfig } from '../service/service.ts';

export const IMPORT_USAGE = `usage: agentotel import <dir> [options]

Sends every transcript under <dir> (or the one file <dir>) to a running agentotel as spans.

options:
  --agent <name>        claude-code (default), codex, gemini-cli
  --endpoint <url>      OTLP/HTTP endpoint (default: the config's otlp receiver, http://127.0.0.1:4318)
  --token <token>       ingest token (default: AGENTOTEL_INGEST_TOKEN, the config's, or <data_dir>/ingest-token)
  -c, --config <file>   config to take the defaults from (default: the bundled config/agentotel.yaml)
  -h, --help`;

const DEFAULT_CONFIG = fileURLToPath(new URL('../config/agentotel.yaml', import.meta.url));
const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 12;

class ImportError extends Error {}
class TooLarge extends Error {}

/** Where to send and with which token: flags, else the config's otlp receiver and data directory. */
async function destination(flags: { endpoint?: string; token?: string; config?: string }): Promise<{ url: string; token?: string }> {
  let endpoint = flags.endpoint;
  let token = flags.token || process.env.AGENTOTEL_INGEST_TOKEN || undefined;
  if (!endpoint || !token) {
    const config = await loadServiceConfig(flags.config ?? DEFAULT_CONFIG);
    const otlp = config.pipelines
      .flatMap((p) => p.receivers)
      .find((r) => r.factory.type === 'otlp' && (r.config as OtlpReceiverConfig).http)?.config as OtlpReceiverConfig | undefined;
    if (!endpoint && otlp?.http) {
      const { host, port } = otlp.http.endpoint;
      const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
      endpoint = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
    }
    token ||=
      otlp?.tokens[0] ||
      (await readFile(path.join(config.dataDir, 'ingest-token'), 'utf8').then(
        (t) => t.trim() || undefined,
        () => undefined,
      ));
  }
  const base = (endpoint ?? 'http://127.0.0.1:4318').replace(/\/+$/, '');
  return { url: base.endsWith('/v1/traces') ? base : `${base}/v1/traces`, token };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Posts one request; resolves with the spans the collector rejected (partial success). */
async function post(url: string, token: string | undefined, data: TracesData): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = new Uint8Array(encodeProtobuf('traces', data)); // a copy typed as fetch wants it
  for (let attempt = 1; ; attempt++) {
    let status: number;
    let detail: string;
    let retryAfterS = 0;
    try {
      const res = await fetch(url, { method: 'POST', headers, body });
      if (res.ok) {
        const type = responseType('traces');
        const response = type.toObject(type.decode(new Uint8Array(await res.arrayBuffer())), { longs: Number }) as {
          partialSuccess?: { rejectedSpans?: number };
        };
        return response.partialSuccess?.rejectedSpans ?? 0;
      }
      if (res.status === 413) throw new TooLarge();
      status = res.status;
      detail = `answered ${res.status} ${(await res.text()).slice(0, 200)}`;
      retryAfterS = Number(res.headers.get('retry-after')) || 0;
      if (status === 401) throw new ImportError(`${url} refused the token (401): pass --token, or set AGENTOTEL_INGEST_TOKEN`);
      if (!RETRYABLE.has(status)) throw new ImportError(`${url} ${detail}`);
    } catch (err) {
      if (err instanceof ImportError || err instanceof TooLarge) throw err;
      detail = `unreachable: ${String((err as Error).cause ?? (err as Error).message)}`;
    }
    if (attempt >= MAX_ATTEMPTS) throw new ImportError(`${url} ${detail} (gave up after ${attempt} attempts)`);
    await sleep(Math.max(retryAfterS * 1000, Math.min(250 * 2 ** attempt, 5_000)));
  }
}

/** Sends the spans, halving a request the collector finds too large; returns the spans refused. */
async function send(url: string, token: string | undefined, data: TracesData, refused: Map<string, number>): Promise<void> {
  const n = countSpans(data);
  try {
    const rejected = await post(url, token, data);
    if (rejected > 0) refused.set('spans rejected by the collector', (refused.get('spans rejected by the collector') ?? 0) + rejected);
  } catch (err) {
    if (!(err instanceof TooLarge)) throw err;
    if (n <= 1) {
      refused.set('span too large for the collector', (refused.get('span too large for the collector') ?? 0) + 1);
      return;
    }
    let i = 0;
    let j = 0;
    await send(
      url,
      token,
      filterSpans(data, () => i++ < n / 2),
      refused,
    );
    await send(
      url,
      token,
      filterSpans(data, () => j++ >= n / 2),
      refused,
    );
  }
}

/** Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise. */
class Progress {
  private last = 0;
  readonly done = { files: 0, lines: 0, spans: 0, bytes: 0 };

  constructor(
    private readonly files: number,
    private readonly bytes: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(force = false): void {
    const now = Date.now();
    if (!force && now - this.last < (this.out.isTTY ? 100 : 2_000)) return;
    this.last = now;
    const d = this.done;
    const counts = `${d.files}/${this.files} files, ${d.lines.toLocaleString('en-US')} lines, ${d.spans.toLocaleString('en-US')} spans`;
    if (!this.out.isTTY) {
      this.out.write(`import: ${counts}\n`);
      return;
    }
    const share = this.bytes > 0 ? Math.min(1, d.bytes / this.bytes) : 1;
    const width = 24;
    const filled = Math.round(share * width);
    this.out.write(
      `\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${counts}`,
    );
  }

  finish(): void {
    this.update(true);
    if (this.out.isTTY) this.out.write('\n');
  }
}

export async function runImport(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      agent: { type: 'string' },
      endpoint: { type: 'string' },
      token: { type: 'string' },
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(IMPORT_USAGE);
    return 0;
  }
  const agent = (values.agent ?? 'claude-code') as AgentName;
  const [dir, extra] = positionals;
  const problem =
    !dir || extra
      ? 'import needs one directory'
      : !AGENTS.includes(agent) || !transcriptFormats[agent]
        ? `no transcript format for agent "${agent}" (one of ${AGENTS.filter((a) => transcriptFormats[a]).join(', ')})`
        : undefined;
  if (problem) {
    console.error(`${problem}\n\n${IMPORT_USAGE}`);
    return 2;
  }
  try {
    const files = await findTranscripts(dir!, agent).catch((err: unknown) => {
      throw new ImportError(`cannot read ${dir}: ${(err as Error).message}`);
    });
    const { url, token } = await destination(values);
    const summary = await importFiles(files, agent, url, token);
    console.log(summary);
    return 0;
  } catch (err) {
    if (!(err instanceof ImportError)) throw err;
    console.error(`import failed: ${err.message}`);
    return 1;
  }
}

async function importFiles(files: string[], agent: AgentName, url: string, token: string | undefined): Promise<string> {
  const format = transcriptFormats[agent]!;
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const progress = new Progress(
    files.length,
    sizes.reduce((a, b) => a + b, 0),
  );
  const skipped = new Map<string, number>();
  const add = (reason: string, n: number) => {
    if (n > 0) skipped.set(reason, (skipped.get(reason) ?? 0) + n);
  };
  const done = progress.done;
  try {
    for (const [i, file] of files.entries()) {
      const parser = format.createParser(file);
      const bytesBefore = done.bytes;
      for await (const batch of readTranscript(file, parser)) {
        const data = capturesToTraces(batch.captures);
        await send(url, token, data, skipped);
        done.lines += batch.lines;
        done.spans += countSpans(data);
        done.bytes = bytesBefore + batch.bytesRead;
        add('line longer than the limit', batch.oversized);
        progress.update();
      }
      for (const [reason, n] of parser.skipped) add(reason, n);
      done.files = i + 1;
      done.bytes = bytesBefore + sizes[i]!;
      progress.update();
    }
  } finally {
    progress.finish();
  }
  return [
    `imported ${done.files} ${agent} transcript file(s): ${done.lines} lines, ${done.spans} spans sent to ${url}`,
    ...(skipped.size > 0 ? ['skipped, by reason:'] : []),
    ...[...skipped].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `  ${String(n).padStart(7)}  ${reason}`),
  ].join('\n');
}
