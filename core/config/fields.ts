/**
 * Validation of one component's config block. A `Fields` reads typed values from an object
 * at a config path, fills defaults, and rejects unknown keys, so every error names the key:
 *   processors.redaction.tier: must be 1, 2 or 3 (got 4)
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path ? `${path}: ${problem}` : problem);
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)$/;
const DURATION_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i;
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

const describe = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : v === null ? 'null' : String(v));

export class Fields {
  private readonly obj: Record<string, unknown>;
  private readonly seen = new Set<string>();

  constructor(
    raw: unknown,
    readonly path: string,
  ) {
    if (raw === undefined || raw === null) this.obj = {};
    else if (typeof raw === 'object' && !Array.isArray(raw)) this.obj = raw as Record<string, unknown>;
    else throw new ConfigError(path, `must be a mapping (got ${describe(raw)})`);
  }

  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  fail(key: string, problem: string): never {
    throw new ConfigError(this.at(key), problem);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    this.seen.add(key);
    return this.obj[key];
  }

  keys(): string[] {
    return Object.keys(this.obj);
  }

  string(key: string, fallback?: string): string {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (fallback === undefined) this.fail(key, 'is required');
      return fallback;
    }
    if (typeof v !== 'string' && typeof v !== 'number') this.fail(key, `must be a string (got ${describe(v)})`);
    return String(v);
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : (this.raw(key), undefined);
  }

  number(key: string, fallback: number, range: { min?: number; max?: number; integer?: boolean } = {}): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) this.fail(key, `must be a number (got ${describe(v)})`);
    if (range.integer && !Number.isInteger(n)) this.fail(key, `must be a whole number (got ${describe(v)})`);
    if (range.min !== undefined && n < range.min) this.fail(key, `must be at least ${range.min} (got ${n})`);
    if (range.max !== undefined && n > range.max) this.fail(key, `must be at most ${range.max} (got ${n})`);
    return n;
  }

  int(key: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    return this.number(key, fallback, { ...range, integer: true });
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.fail(key, `must be true or false (got ${describe(v)})`);
  }

  /** A duration such as "200ms", "5s", "1h" (a bare number is milliseconds); returns ms. */
  duration(key: string, fallbackMs: number): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallbackMs;
    if (typeof v === 'number' && v >= 0) return v;
    const m = typeof v === 'string' ? DURATION.exec(v.trim()) : null;
    if (!m) this.fail(key, `must be a duration such as 500ms, 5s, 1h (got ${describe(v)})`);
    return Number(m[1]) * DURATION_MS[m[2]!]!;
  }

  /** A size such as "4MiB" or 1048576; returns bytes. */
  size(key: string, fallbackBytes: number): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallbackBytes;
    if (typeof v === 'number' && v >= 0) return v;
    const m = typeof v === 'string' ? SIZE.exec(v.trim()) : null;
    if (!m) this.fail(key, `must be a size such as 512KiB or 4MiB (got ${describe(v)})`);
    return Math.round(Number(m[1]) * SIZE_BYTES[(m[2] ?? 'b').toLowerCase()]!);
  }

  oneOf<T extends string | number>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    const match = allowed.find((a) => a === v || String(a) === String(v));
    if (match === undefined) this.fail(key, `must be one of ${allowed.join(', ')} (got ${describe(v)})`);
    return match;
  }

  stringList(key: string, fallback: string[] = []): string[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.fail(key, `must be a list of strings (got ${describe(v)})`);
    return v as string[];
  }

  /** A nested mapping, validated with its own Fields. */
  object(key: string): Fields {
    return new Fields(this.raw(key), this.at(key));
  }

  /** Rejects keys no reader asked for: a typo must not pass silently. */
  done(): void {
    for (const key of Object.keys(this.obj)) {
      if (!this.seen.has(key)) this.fail(key, 'unknown key');
    }
  }
}
