/**
 * The `include` patterns of transcript sources, matched against a file's path relative to the
 * source root with `/` separators: `*` any characters within one path segment, `?` one
 * character, `**` any number of whole segments (also none): `**\/*.jsonl`, `*\/chats/session-*.jsonl`.
 */
export interface PathPattern {
  matches(relativePath: string): boolean;
  /** How many segments deep a match can be (Infinity with `**`): the walk goes no deeper. */
  maxDepth: number;
}

export class PathPatternError extends Error {}

const escapeChar = (ch: string) => (ch === '*' ? '[^/]*' : ch === '?' ? '[^/]' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'));

export function compilePathPattern(pattern: string): PathPattern {
  if (pattern.trim() === '') throw new PathPatternError('must not be empty');
  if (pattern.startsWith('/') || pattern.includes('\\')) throw new PathPatternError('must be relative to root, with / separators');
  const segments = pattern.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw new PathPatternError('must not have empty, . or .. segments');
  if (segments.some((s) => s.includes('**') && s !== '**')) throw new PathPatternError('** must be a whole path segment');
  let source = '';
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '**') source += last ? '.*' : '(?:[^/]+/)*';
    else source += [...seg].map(escapeChar).join('') + (last ? '' : '/');
  });
  const re = new RegExp(`^${source}$`);
  return { matches: (p) => re.test(p), maxDepth: segments.includes('**') ? Infinity : segments.length };
}
