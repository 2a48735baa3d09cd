/**
 * Secret detectors, combined into one global regex so that a clean string costs a single
 * scan. Each detector is an alternative wrapped in a named group `d<i>`; the replacement
 * callback finds which one matched and what to put in its place.
 */
import type { CustomPattern } from './config.ts';

export const redacted = (kind: string): string => `[REDACTED:${kind}]`;

/** kind -> number of redactions. */
export type KindCounts = Map<string, number>;

interface Replacement {
  kind: string;
  /** The sensitive part, tested against the allow-list (and remembered when `learn`). */
  secret: string;
  text: string;
  /**
   * A value recognised only by its context (a password after `password=`, in a URL): the
   * same text elsewhere in the trace (an assistant repeating it) is redacted as well.
   */
  learn?: boolean;
}

type Groups = Record<string, string | undefined>;

interface Detector {
  kind: string;
  source: string;
  /** Default: the whole match is the secret and becomes `[REDACTED:<kind>]`. Undefined: keep it. */
  replace?: (match: string, groups: Groups) => Replacement | undefined;
}

/** `[pP][aA]…`: the combined regex has no `i` flag, only keywords are case-insensitive. */
const ci = (word: string): string => [...word].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join('');
const words = (...parts: string[]): string => parts.map(ci).join('[_.-]?');

/** Formats whose shape alone says "credential". */
const TOKEN_DETECTORS: Detector[] = [
  { kind: 'private_key', source: String.raw`-----BEGIN[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*)` },
  { kind: 'aws_access_key', source: String.raw`\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b` },
  { kind: 'github_token', source: String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b` },
  { kind: 'gitlab_token', source: String.raw`\bglpat-[A-Za-z0-9_-]{20,}` },
  { kind: 'slack_token', source: String.raw`\bxox[abprs]-[A-Za-z0-9-]{10,}` },
  { kind: 'stripe_key', source: String.raw`\b[rs]k_live_[A-Za-z0-9]{16,}` },
  { kind: 'anthropic_key', source: String.raw`\bsk-ant-[A-Za-z0-9_-]{16,}` },
  { kind: 'openai_key', source: String.raw`\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}` },
  { kind: 'google_api_key', source: String.raw`\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])` },
  { kind: 'jwt', source: String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}` },
];

const TOKEN_MATCHERS = TOKEN_DETECTORS.map((d) => ({ kind: d.kind, regex: new RegExp(`^(?:${d.source})$`) }));

/** The kind of a value if its shape is a known token format. */
function tokenKind(value: string): string | undefined {
  return TOKEN_MATCHERS.find((m) => m.regex.test(value))?.kind;
}

// Keywords that end an identifier naming a secret: AWS_SECRET_ACCESS_KEY, db_password,
// "apiKey", GITHUB_TOKEN. `tokens` (max_tokens) does not end in one.
const SECRET_KEYWORD = [
  words('secret', 'access', 'key'),
  words('access', 'key'),
  words('secret', 'key'),
  words('private', 'key'),
  words('api', 'key'),
  words('client', 'secret'),
  words('access', 'token'),
  words('refresh', 'token'),
  words('auth', 'token'),
  ci('passphrase'),
  ci('password'),
  ci('passwd'),
  ci('secret'),
  ci('token'),
].join('|');
// `password=x`, `"password": "x"` (also JSON-escaped), `password: x`, or prose with a quoted
// value: "the password `x`", "the token is 'x'".
const ASSIGNMENT_SEPARATOR = String.raw`\\?["']?[ \t]*[:=][ \t]*\\?["'\x60]?|[ \t]+(?:is[ \t]+|was[ \t]+)?\\?["'\x60]`;
// Never starts with `[`, so `password=[REDACTED:password]` is not redacted twice.
const ASSIGNMENT_VALUE = String.raw`[^\s"'\x60,;&<>\[\]{}\\][^\s"'\x60,;&<>\[\]{}\\]{2,}`;
const NOT_A_SECRET = /^(?:null|true|false|none|undefined|\*+|x+|\.+)$/i;

const CONTEXT_DETECTORS: Detector[] = [
  {
    kind: 'url_credentials',
    source: String.raw`://(?<url_user>[^\s:/@"'\x60]+):(?<url_pass>[^\s@/"'\x60\[][^\s@/"'\x60]*)@`,
    replace: (_m, g) => ({ kind: 'url_credentials', secret: g.url_pass!, text: `://${g.url_user}:${redacted('url_credentials')}@`, learn: true }),
  },
  {
    kind: 'bearer_token',
    source: String.raw`\b[Bb]earer[ \t]+(?<bearer>[A-Za-z0-9._~+/-]{16,}=*)`,
    replace: (m, g) => ({ kind: 'bearer_token', secret: g.bearer!, text: m.slice(0, m.length - g.bearer!.length) + redacted('bearer_token') }),
  },
  {
    kind: 'secret_assignment',
    source: `(?<kw_key>${SECRET_KEYWORD})(?<kw_sep>${ASSIGNMENT_SEPARATOR})(?<kw_val>${ASSIGNMENT_VALUE})`,
    replace: (_m, g) => {
      const value = g.kw_val!;
      const key = g.kw_key!.toLowerCase();
      if (NOT_A_SECRET.test(value)) return undefined;
      const kind = tokenKind(value) ?? (/secret.?access/.test(key) ? 'aws_secret_key' : key.startsWith('pass') ? 'password' : 'secret');
      return { kind, secret: value, text: g.kw_key! + g.kw_sep! + redacted(kind), learn: true };
    },
  },
  {
    kind: 'email',
    source: String.raw`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b`,
  },
  {
    // /home/<user>, /Users/<user>, C:\Users\<user> (also JSON-escaped) become ~, and so
    // does the user in Claude Code's project directory names (-home-<user>-project).
    kind: 'home_path',
    source: [
      String.raw`(?<![\w.~-])/(?:home|Users)/(?<home_user>[^/\s"'\x60:;,\\]+)`,
      String.raw`\b[A-Za-z]:\\{1,2}Users\\{1,2}(?<win_user>[^\\/\s"'\x60:;,]+)`,
      String.raw`(?<![\w-])-(?:home|Users)-(?<mangled_user>[A-Za-z0-9_]+)(?=-)`,
    ].join('|'),
    replace: (_m, g) => ({ kind: 'home_path', secret: g.home_user ?? g.win_user ?? g.mangled_user!, text: '~' }),
  },
];

export const BUILTIN_KINDS: readonly string[] = [...TOKEN_DETECTORS, ...CONTEXT_DETECTORS].map((d) => d.kind);

export interface ScannerOptions {
  patterns: CustomPattern[];
  allow: string[];
  disabledDetectors: string[];
}

/** Values shorter than this are not remembered: redacting every "abc" would shred the text. */
const MIN_LEARNED_LENGTH = 6;
const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export class SecretScanner {
  private readonly detectors: Detector[];
  /** `d<i>` for detector i: the group that says which detector matched. */
  private readonly groupNames: string[];
  private readonly combined: RegExp;
  private readonly allow: RegExp[];

  constructor(options: ScannerOptions) {
    const disabled = new Set(options.disabledDetectors);
    this.detectors = [
      ...options.patterns.map((p): Detector => ({ kind: p.name, source: p.regex })),
      ...[...TOKEN_DETECTORS, ...CONTEXT_DETECTORS].filter((d) => !disabled.has(d.kind)),
    ];
    this.groupNames = this.detectors.map((_, i) => `d${i}`);
    this.combined = new RegExp(this.detectors.map((d, i) => `(?<${this.groupNames[i]}>${d.source})`).join('|'), 'g');
    this.allow = options.allow.map((source) => new RegExp(source));
  }

  /**
   * Redacts every detection in `text`, counting them in `counts`; values recognised only by
   * their context are added to `learned` (value -> kind). What String.replace with a callback
   * does, as an exec loop: a string without a detection (most of them) costs one scan and
   * no allocation, where replace's callback path would cost several times more.
   */
  redact(text: string, counts: KindCounts, learned: Map<string, string>): string {
    const regex = this.combined;
    regex.lastIndex = 0;
    let out = '';
    let copied = 0;
    let replaced = false;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const match = m[0];
      const replacement = this.replacement(match, m.groups!, counts, learned);
      if (replacement !== match) {
        out += text.slice(copied, m.index) + replacement;
        copied = m.index + match.length;
        replaced = true;
      }
      if (match.length === 0) regex.lastIndex++; // as replace does: an empty match moves on by one
    }
    return replaced ? out + text.slice(copied) : text;
  }

  private replacement(match: string, groups: Groups, counts: KindCounts, learned: Map<string, string>): string {
    let i = 0;
    while (groups[this.groupNames[i]!] === undefined) i++;
    const detector = this.detectors[i]!;
    const r = detector.replace ? detector.replace(match, groups) : { kind: detector.kind, secret: match, text: redacted(detector.kind) };
    if (!r || this.allow.some((a) => a.test(r.secret))) return match;
    counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    if (r.learn && r.secret.length >= MIN_LEARNED_LENGTH) learned.set(r.secret, r.kind);
    return r.text;
  }
}

/** Redacts the exact values learned earlier in the trace (see Replacement.learn). */
export class LearnedSecrets {
  private readonly regex: RegExp;

  constructor(private readonly values: Map<string, string>) {
    const alternatives = [...values.keys()].sort((a, b) => b.length - a.length).map(escapeRegex);
    this.regex = new RegExp(alternatives.join('|'), 'g');
  }

  redact(text: string, counts: KindCounts): string {
    return text.replace(this.regex, (match) => {
      const kind = this.values.get(match)!;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      return redacted(kind);
    });
  }
}
