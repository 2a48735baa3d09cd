/**
 * agentotel's part of a line-based file with `#` comments (TOML, .env): one block between two
 * marker lines, replaced in place when it is there, appended after a blank line when it is not,
 * and removed with that blank line. The rest of the file is never touched.
 */
const BEGIN = '# >>> agentotel';
const END = '# <<< agentotel <<<';

function locate(text: string): { start: number; end: number } | undefined {
  const start = `\n${text}`.indexOf(`\n${BEGIN}`); // = BEGIN's offset in text
  if (start < 0) return undefined;
  const endMarker = text.indexOf(`\n${END}`, start);
  if (endMarker < 0) return undefined;
  const lineEnd = text.indexOf('\n', endMarker + 1);
  return { start, end: lineEnd < 0 ? text.length : lineEnd + 1 };
}

/** `text` (null: no file) with the block holding `lines`; `title` says who wrote it and how to remove it. */
export function upsertBlock(text: string | null, title: string, lines: string[]): string {
  const block = [`${BEGIN} (${title}) >>>`, ...lines, END].join('\n') + '\n';
  const base = text ?? '';
  const at = locate(base);
  if (at) return base.slice(0, at.start) + block + base.slice(at.end);
  if (base === '') return block;
  return (base.endsWith('\n') ? base : base + '\n') + '\n' + block;
}

/** `text` without the block (and the blank line before it); null when nothing else is left. */
export function removeBlock(text: string | null): string | null {
  if (text === null) return null;
  const at = locate(text);
  if (!at) return text;
  const head = text.slice(0, at.start);
  const rest = (head.endsWith('\n\n') ? head.slice(0, -1) : head) + text.slice(at.end);
  return rest.trim() === '' ? null : rest;
}

/** The lines inside the block, when there is one. */
export function blockLines(text: string | null): string[] | undefined {
  const at = text === null ? undefined : locate(text);
  if (!text || !at) return undefined;
  return text.slice(at.start, at.end).trimEnd().split('\n').slice(1, -1);
}
