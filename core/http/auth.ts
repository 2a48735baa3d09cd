/**
 * Bearer-token check for ingest: `Authorization: Bearer <token>` (HTTP header or gRPC
 * metadata). Tokens are compared through their SHA-256 digests with timingSafeEqual, and
 * every configured token is compared, so timing reveals neither a token nor which matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export type AuthCheck = (authorization: string | undefined) => boolean;

/** With no tokens configured every request passes. */
export function bearerTokenCheck(tokens: string[]): AuthCheck {
  if (tokens.length === 0) return () => true;
  const accepted = tokens.map(digest);
  return (authorization) => {
    const m = authorization === undefined ? null : BEARER.exec(authorization);
    if (!m) return false;
    const candidate = digest(m[1]!);
    let ok = false;
    for (const a of accepted) ok = timingSafeEqual(a, candidate) || ok;
    return ok;
  };
}
