/** One hook payload POSTed to the hooks receiver, and what its answer means for the payload. */
import http from 'node:http';

/** `sent`: taken; `rejected`: the collector will never take it (malformed, too large); `retry`: keep it for later. */
export type Delivery = 'sent' | 'rejected' | 'retry';

/** 401/403 (a token to fix), 404 (an agent this collector does not serve yet), 408, 429 and 5xx: worth keeping. */
export function deliveryOf(status: number): Delivery {
  if (status >= 200 && status < 300) return 'sent';
  if (status >= 400 && status < 500 && ![401, 403, 404, 408, 429].includes(status)) return 'rejected';
  return 'retry';
}

export interface Poster {
  post(body: string, signal: AbortSignal): Promise<{ delivery: Delivery; status?: number }>;
}

/** Posts to `url` over one kept-alive connection; an error, a timeout or an abort is `retry`. */
export async function createPoster(url: URL, token: string | undefined): Promise<Poster> {
  const transport = url.protocol === 'https:' ? await import('node:https') : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 1 });
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return {
    post: (body, signal) =>
      new Promise((resolve) => {
        if (signal.aborted) return resolve({ delivery: 'retry' });
        const req = transport.request(
          url,
          { method: 'POST', agent, signal, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ delivery: deliveryOf(res.statusCode ?? 0), status: res.statusCode }));
            res.on('error', () => resolve({ delivery: 'retry' }));
          },
        );
        req.on('error', () => resolve({ delivery: 'retry' }));
        req.end(body);
      }),
  };
}
