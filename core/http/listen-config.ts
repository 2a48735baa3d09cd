/** Config pieces every network receiver shares: where it listens and the bearer tokens it takes. */
import type { Fields } from '../config/fields.ts';

export interface Endpoint {
  host: string;
  port: number;
}

const ENDPOINT = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/;

export function parseEndpoint(fields: Fields, fallback: string): Endpoint {
  const text = fields.string('endpoint', fallback);
  const m = ENDPOINT.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) fields.fail('endpoint', `must be host:port, e.g. ${fallback} (got ${JSON.stringify(text)})`);
  // ":4317" listens on every interface, as in the Collector.
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function parseTokens(fields: Fields): string[] {
  const tokens = fields.stringList('tokens');
  tokens.forEach((t, i) => {
    // Never echo the token itself: it is a secret.
    if (t.trim() === '') fields.fail(`tokens[${i}]`, 'must not be empty');
    if (/\s/.test(t)) fields.fail(`tokens[${i}]`, 'must not contain whitespace');
  });
  fields.done();
  return tokens;
}
