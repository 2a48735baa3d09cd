/**
 * Where a collector listens, from `--endpoint` (scheme and host; the default config's ports
 * 4317 gRPC, 4318 OTLP/HTTP, 4319 hooks) or the flags that name one endpoint.
 */
import { DEFAULT_HOST_URL, DEFAULT_PORTS, UsageError, type OtlpProtocol } from './agents.ts';

export interface EndpointFlags {
  endpoint?: string;
  otlpEndpoint?: string;
  hooksEndpoint?: string;
}

export interface Endpoints {
  /** OTLP endpoint for the protocol: http://host:4317 (gRPC) or http://host:4318 (OTLP/HTTP, without /v1/...). */
  otlp: string;
  /** Base URL of the hooks receiver; an agent's path is added to it. */
  hooks: string;
}

function parseUrl(flag: string, value: string, { hostOnly }: { hostOnly: boolean }): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${flag} must be a URL such as http://127.0.0.1 (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--${flag} must be an http:// or https:// URL (got ${JSON.stringify(value)})`);
  if (url.search || url.hash || url.username || (hostOnly && (url.port || url.pathname !== '/'))) {
    throw new UsageError(
      hostOnly
        ? `--${flag} takes a scheme and host only, e.g. http://10.0.0.5 (ports are ${DEFAULT_PORTS.grpc} gRPC, ${DEFAULT_PORTS.http} OTLP/HTTP, ${DEFAULT_PORTS.hooks} hooks; --otlp-endpoint and --hooks-endpoint name others)`
        : `--${flag} must be a plain URL without credentials, query or fragment (got ${JSON.stringify(value)})`,
    );
  }
  return url;
}

const withoutSlash = (url: URL) => url.href.replace(/\/$/, '');

export function resolveEndpoints(flags: EndpointFlags, protocol: OtlpProtocol): Endpoints {
  const base = parseUrl('endpoint', flags.endpoint ?? DEFAULT_HOST_URL, { hostOnly: true });
  const origin = `${base.protocol}//${base.hostname}`;
  return {
    otlp: flags.otlpEndpoint
      ? withoutSlash(parseUrl('otlp-endpoint', flags.otlpEndpoint, { hostOnly: false }))
      : `${origin}:${protocol === 'grpc' ? DEFAULT_PORTS.grpc : DEFAULT_PORTS.http}`,
    hooks: flags.hooksEndpoint
      ? withoutSlash(parseUrl('hooks-endpoint', flags.hooksEndpoint, { hostOnly: false }))
      : `${origin}:${DEFAULT_PORTS.hooks}`,
  };
}
