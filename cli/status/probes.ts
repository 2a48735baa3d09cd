/**
 * The collector as an agent meets it: an empty OTLP export (gRPC or HTTP) and an empty hook
 * payload, both with the agent's token, and the health endpoint. An empty export is a valid
 * request that stores nothing; an empty payload is answered 400 (no session id) once the token
 * is accepted, 401 when it is not.
 */
import type { OtlpProtocol } from '../agent-settings/agents.ts';

const TIMEOUT_MS = 3_000;
const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

export type ProbeResult = { ok: boolean; what: string };

function jsonHeaders(token: string | undefined): Record<string, string> {
  return token ? { 'content-type': 'application/json', authorization: `Bearer ${token}` } : { 'content-type': 'application/json' };
}

function reason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

async function request(url: string, init: RequestInit): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { error: reason(err) };
  }
}

/** The `error` of a JSON error body, for the reader. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    return String(parsed.error ?? parsed.message ?? body).slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}

function grpcExport(endpoint: string, token: string | undefined): Promise<{ code: number; details: string }> {
  return import('@grpc/grpc-js').then(
    (grpc) =>
      new Promise((resolve) => {
        const url = new URL(endpoint);
        const credentials = url.protocol === 'https:' ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
        const client = new grpc.Client(url.host, credentials);
        const metadata = new grpc.Metadata();
        if (token) metadata.set('authorization', `Bearer ${token}`);
        const identity = (b: Buffer) => b;
        client.makeUnaryRequest(
          LOGS_EXPORT,
          identity,
          identity,
          Buffer.alloc(0),
          metadata,
          { deadline: Date.now() + TIMEOUT_MS },
          (err) => {
            client.close();
            resolve({ code: err?.code ?? 0, details: err?.details ?? '' });
          },
        );
      }),
  );
}

export async function probeOtlp(protocol: OtlpProtocol, endpoint: string, token: string | undefined): Promise<ProbeResult> {
  if (protocol === 'grpc') {
    const { code, details } = await grpcExport(endpoint, token);
    if (code === 0) return { ok: true, what: 'accepts the token' };
    if (code === 16) return { ok: false, what: 'rejects the token (UNAUTHENTICATED)' };
    if (code === 14) return { ok: false, what: `not reachable (${/\bE[A-Z]{3,}\b/.exec(details)?.[0] ?? 'UNAVAILABLE'})` };
    return { ok: false, what: `answered gRPC status ${code} (${details})` };
  }
  const r = await request(`${endpoint}/v1/logs`, {
    method: 'POST',
    headers: jsonHeaders(token),
    body: '{}',
  });
  if ('error' in r) return { ok: false, what: `not reachable (${r.error})` };
  if (r.status === 200) return { ok: true, what: 'accepts the token' };
  if (r.status === 401) return { ok: false, what: 'rejects the token (HTTP 401)' };
  return { ok: false, what: `answered HTTP ${r.status} (${errorText(r.body)})` };
}

export async function probeHooks(url: string, token: string | undefined): Promise<ProbeResult> {
  const r = await request(url, { method: 'POST', headers: jsonHeaders(token), body: '{}' });
  if ('error' in r) return { ok: false, what: `not reachable (${r.error})` };
  if (r.status === 401) return { ok: false, what: 'rejects the token (HTTP 401)' };
  if (r.status === 400 || (r.status >= 200 && r.status < 300)) return { ok: true, what: 'accepts the token' };
  return { ok: false, what: `answered HTTP ${r.status} (${errorText(r.body)})` };
}

export async function probeHealth(address: string): Promise<ProbeResult> {
  const r = await request(`http://${address}/healthz`, {});
  if ('error' in r) return { ok: false, what: `not reachable (${r.error})` };
  if (r.status === 200) return { ok: true, what: 'ok' };
  return { ok: false, what: r.status === 503 ? 'starting (HTTP 503)' : `answered HTTP ${r.status}` };
}
