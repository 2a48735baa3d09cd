/**
 * The HTTP server of a network receiver: listens on its endpoint and, on shutdown, stops
 * accepting connections, lets the requests in flight finish, then closes every connection.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Endpoint } from './listen-config.ts';

/** host:port of a bound socket, IPv6 hosts in brackets. */
function formatAddress(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}

/** A receiver's HTTP server: a subclass handles each request. */
export abstract class ReceiverHttpServer {
  private readonly server = http.createServer((req, res) => this.track(this.handle(req, res)));
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly endpoint: Endpoint) {}

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;

  /** Listens; resolves with the bound address (host:port). */
  start(): Promise<string> {
    const { host, port } = this.endpoint;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(formatAddress(this.server.address() as AddressInfo));
      });
    });
  }

  /** Stops accepting connections, lets in-flight requests finish, then closes every connection. */
  async shutdown(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.all(this.inFlight);
    this.server.closeAllConnections();
    await closed;
  }

  private track(request: Promise<void>): void {
    this.inFlight.add(request);
    void request.finally(() => this.inFlight.delete(request));
  }
}

/** Answers with `body`, unless an answer was sent already or the connection is gone. */
export function sendBody(
  res: http.ServerResponse,
  status: number,
  contentType: string,
  body: Buffer,
  headers: http.OutgoingHttpHeaders = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': body.length });
  res.end(body);
}
