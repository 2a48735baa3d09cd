/**
 * OTEL_RESOURCE_ATTRIBUTES, as the OpenTelemetry SDK environment spec defines it: comma-separated
 * `key=value` pairs, values percent-encoded. A malformed pair is skipped, as the SDKs do.
 */
export function parseResourceAttributes(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, Math.max(0, eq)).trim();
    if (!key) continue;
    try {
      out[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      // not valid percent-encoding: skipped
    }
  }
  return out;
}
