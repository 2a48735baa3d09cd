/** The service's own endpoints: GET /healthz (200 when ready) and GET /metrics (Prometheus text). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from '../core/metrics.ts';

export interface TelemetryServer {
  address: string;
  close(): Promise<void>;
}

export async function startTelemetryServer(address: string, metrics: MetricsRegistry, ready: () => boolean): Promise<TelemetryServer> {
  const [host, port] = splitHostPort(address);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
    } else if (req.url === '/healthz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${host}:${bound.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  if (i < 0) throw new Error(`address "${address}" must be host:port`);
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`address "${address}" has an invalid port`);
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), port];
}
