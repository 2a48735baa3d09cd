/**
 * Deterministic ids (DESIGN.md "Identity"): every capture path and every retry names the
 * same session, prompt, model call or tool call the same way.
 *   trace id = hash(agent, session id)                 16 bytes
 *   span id  = hash(trace id, span kind, natural key)  8 bytes
 */
import { createHash } from 'node:crypto';

function digestHex(parts: string[], bytes: number): string {
  const h = createHash('sha256');
  // Length-prefix each part so ("ab","c") and ("a","bc") never collide.
  for (const p of parts) h.update(`${p.length}:${p}`);
  return h.digest('hex').slice(0, bytes * 2);
}

export function traceIdFor(agent: string, sessionId: string): string {
  return digestHex(['agentotel/trace', agent, sessionId], 16);
}

export function spanIdFor(traceId: string, kind: string, naturalKey: string): string {
  return digestHex(['agentotel/span', traceId, kind, naturalKey], 8);
}

export const isTraceId = (id: string | undefined): boolean => !!id && /^[0-9a-f]{32}$/.test(id) && !/^0+$/.test(id);
export const isSpanId = (id: string | undefined): boolean => !!id && /^[0-9a-f]{16}$/.test(id) && !/^0+$/.test(id);
