/**
 * Reading the untyped JSON records of transcript files: every field is checked where it is
 * read, so a record of a newer CLI with a changed shape yields undefined, never a throw.
 */
export type JsonRecord = Record<string, unknown>;

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The line as a JSON object, or undefined when it is not one. */
export function parseRecord(line: string): JsonRecord | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function str(o: JsonRecord | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function num(o: JsonRecord | undefined, key: string): number | undefined {
  const v = o?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function rec(o: JsonRecord | undefined, key: string): JsonRecord | undefined {
  const v = o?.[key];
  return isRecord(v) ? v : undefined;
}

export function list(o: JsonRecord | undefined, key: string): unknown[] {
  const v = o?.[key];
  return Array.isArray(v) ? v : [];
}

/**
 * Content copied into span attributes (prompts, tool arguments and results) is capped: a tool
 * that read a large file must not make a span the bus refuses.
 */
export const CONTENT_LIMIT = 64 * 1024;

export function clip(text: string, limit = CONTENT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…[${text.length - limit} more characters]`;
}
