/**
 * The built-in secret detectors: what credentials and personal data look like in the text of
 * coding sessions (shell output, .env files, JSON and YAML configs, diffs, stack traces, curl
 * commands, code), also inside JSON strings, where a line break is the two characters `\n` and
 * a quote is `\"`.
 *
 * Detectors run in passes, in order, each pass one combined regex over what the passes before
 * it left (scanner.ts). A pass with a `gate` runs only on strings that contain one of its
 * literals: most strings hold no "://", "@" or "PRIVATE KEY", and V8's regex engine slows down
 * with every alternative a regex has, so small gated passes beat one big regex.
 *
 * A detector without `replace` reports its whole match as a secret of its `name`; with it, it
 * says which part of the match is secret and what replaces it, or that the match is not a
 * secret after all (a placeholder, a variable reference, code).
 */

export const redacted = (kind: string): string => `[REDACTED:${kind}]`;

type Groups = Record<string, string | undefined>;

export interface Match {
  /** The whole string being scanned. */
  input: string;
  /** Where the regex match starts in `input`. */
  index: number;
  /** The regex match. */
  value: string;
  groups: Groups;
}

export interface Detection {
  kind: string;
  /** The sensitive part: tested against the allow-list, and remembered when `learn`. */
  secret: string;
  /** What replaces the match (and the `back` characters before it). */
  text: string;
  /** The replaced text starts this many characters before the regex match (left context the regex could not start with). */
  back?: number;
  /**
   * A value recognised only by its context (a password after `password=`, in a URL): the same
   * text elsewhere in the trace (the assistant repeating it) is redacted as well.
   */
  learn?: boolean;
}

export interface Detector {
  /** What `disabled_detectors` names, and the kind reported when there is no `replace`. */
  name: string;
  /** The kinds it reports. */
  kinds: readonly string[];
  /** Starts with a literal where it can: a regex that starts with a class or a lookbehind is tried at every position. */
  source: string;
  /** A token: it must not continue a word (checked here, not in the regex, for the reason above). */
  token?: boolean;
  replace?: (m: Match) => Detection | undefined;
}

export interface Pass {
  name: string;
  /** Runs only on strings holding one of these (case-sensitive); always when absent. */
  gate?: readonly string[];
  /** Compile with the `i` flag. */
  caseInsensitive?: boolean;
  detectors: Detector[];
}

// ── helpers ──────────────────────────────────────────────────────────────────

/** A quote as it appears in text, in JSON strings and in JSON inside JSON strings. */
const QUOTE = String.raw`\\{0,3}["']`;
const WORD_CHAR = /[A-Za-z0-9_]/;

/**
 * A token starts at `index` when the character before is not a word character, or is the
 * letter of a JSON escape (`\n`, `\t`, `\r`), which puts a letter before a token at the start
 * of a line of escaped text.
 */
export function tokenStartsAt(input: string, index: number): boolean {
  if (index === 0 || !WORD_CHAR.test(input[index - 1]!)) return true;
  return index >= 2 && input[index - 2] === '\\' && /[nrt]/.test(input[index - 1]!);
}

const hasDigit = (s: string) => /[0-9]/.test(s);
const hasUpper = (s: string) => /[A-Z]/.test(s);
const hasLower = (s: string) => /[a-z]/.test(s);
/** A random-looking token rather than a word or an identifier: mixed case and digits, or long and mixed case. */
const looksRandom = (s: string): boolean => (hasDigit(s) && (hasUpper(s) || hasLower(s))) || (s.length >= 32 && hasUpper(s) && hasLower(s));

/** The match with its last part (the secret) replaced. */
const replaceTail = (m: Match, secret: string, kind: string, learn = false): Detection => ({
  kind,
  secret,
  text: m.value.slice(0, m.value.length - secret.length) + redacted(kind),
  learn,
});

/**
 * Values that stand for a secret without being one: empty-ish words, masks, placeholders,
 * references to variables and templates, and what this processor already redacted.
 */
const PLACEHOLDER =
  /^(?:null|nil|none|true|false|undefined|empty|string|str|number|int|bool|boolean|bytes|password|passwd|secret|token|changeme|change_?me|example|sample|test|foo|bar|baz|qux|dummy|placeholder|redacted|required|optional|x+|\*+|\.+|-+|_+|<.*>|u?int(?:8|16|32|64)?|float(?:32|64)?|![A-Za-z]+)$|^(?:\$[{(A-Za-z_]|%[A-Za-z_]+%|\{\{|\{%|<%|#\{|\[REDACTED:)|^(?:your|my|enter|insert|replace|put)[_-]|[_-](?:here|xxx+)$/i;
/** An upper-case name without digits (`YOUR_API_KEY`, `API_TOKEN`): an environment variable's name, not its value. */
const ENV_NAME = /^[A-Z][A-Z_]*_[A-Z_]*$/;
/**
 * Code rather than a value: an identifier or a member chain (process.env.TOKEN, this.password),
 * no digits (Falcon86.g6 is a password); a PowerShell cmdlet (ConvertTo-SecureString).
 */
const CODE_REFERENCE = /^[A-Za-z_$]+(?:(?:\.|\?\.|::|->)[A-Za-z_$]+)*$|^[A-Z][A-Za-z]+-[A-Z][A-Za-z]+$/;
/** A label in prose ("Confirm password", "Enter your token"): words and spaces, no digit. */
const PROSE = /^[A-Za-z][A-Za-z ,.!?'-]* [A-Za-z ,.!?'-]*$/;

const isPlaceholder = (value: string): boolean => PLACEHOLDER.test(value) || ENV_NAME.test(value);

/** A quoted value: data, unless it is a placeholder or a prose label. */
const quotedValueIsSecret = (value: string): boolean => value.length >= 3 && !isPlaceholder(value) && !PROSE.test(value);

/** A command-line flag (`token: --token`, in a usage text). */
const CLI_FLAG = /^--?[a-z][a-z0-9-]*,?$/;

/** An unquoted value: also not code (a reference, a call), a short number or a flag. */
const bareValueIsSecret = (value: string, next: string | undefined): boolean =>
  value.length >= 3 &&
  !isPlaceholder(value) &&
  !CODE_REFERENCE.test(value) &&
  next !== '(' &&
  !/^[0-9]{1,5}$/.test(value) &&
  !CLI_FLAG.test(value);

// ── formats whose shape says "credential" ────────────────────────────────────

const PEM_MARKER = (edge: string) => `-----${edge}[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----`;
/** A line break, and the line number a Read tool or `cat -n` puts before each line ("  12\t", "12→"). */
const PEM_BREAK = String.raw`(?:\s|\\+[rnt])+(?:[0-9]{1,6}(?:\t|\\+t|→))?`;

/**
 * A PEM private key (RSA, EC, DSA, OPENSSH, PKCS#8, encrypted PKCS#8, PGP) up to its END line,
 * or, cut off, its base64 lines; also with escaped line breaks (a service account's JSON) and
 * as the `+` lines of a diff. The body must start with base64: a line of code that names the
 * marker ("-----BEGIN PRIVATE KEY-----\n" +) is not a key.
 */
const PRIVATE_KEY: Detector = {
  name: 'private_key',
  kinds: ['private_key'],
  source:
    PEM_MARKER('BEGIN') +
    PEM_BREAK +
    String.raw`(?:\+?[A-Za-z-]+: [^\r\n\\]*${PEM_BREAK})*\+?[A-Za-z0-9+/=]{4,}` +
    String.raw`(?:[\s\S]{0,16000}?${PEM_MARKER('END')}|(?:${PEM_BREAK}\+?[A-Za-z0-9+/=]{16,})*)`,
};

/** Token formats. Where two share a prefix, the longer one comes first (an Anthropic key also has the shape of an OpenAI one). */
const TOKENS: Detector[] = [
  {
    // An access key id, and the secret beside it as in the credentials CSV ("AKIA…,wJalr…").
    name: 'aws_access_key',
    kinds: ['aws_access_key', 'aws_secret_key'],
    source: String.raw`(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])(?:(?<aws_sep>(?:${QUOTE})?[\t ,;|]{1,8}(?:${QUOTE})?)(?<aws_secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+]))?`,
    token: true,
    replace: (m) => {
      const secret = m.groups.aws_secret;
      if (secret === undefined) return { kind: 'aws_access_key', secret: m.value, text: redacted('aws_access_key') };
      return {
        kind: 'aws_secret_key',
        secret,
        text: redacted('aws_access_key') + m.groups.aws_sep + redacted('aws_secret_key'),
        learn: true,
      };
    },
  },
  {
    name: 'github_token',
    kinds: ['github_token'],
    source: String.raw`(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])`,
    token: true,
  },
  {
    name: 'gitlab_token',
    kinds: ['gitlab_token'],
    source: String.raw`(?:gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas|agent|ffct|wt)-[A-Za-z0-9_.-]{20,}|GR1348941[A-Za-z0-9_-]{20,})`,
    token: true,
  },
  {
    name: 'slack_token',
    kinds: ['slack_token'],
    source: String.raw`(?:xox(?:[abposr]|e(?:\.xox[bp])?)-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})`,
    token: true,
  },
  {
    name: 'slack_webhook',
    kinds: ['slack_webhook'],
    source: String.raw`hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20,}`,
  },
  {
    name: 'stripe_key',
    kinds: ['stripe_key'],
    source: String.raw`(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9+/=]{24,})(?![A-Za-z0-9])`,
    token: true,
  },
  { name: 'anthropic_key', kinds: ['anthropic_key'], source: String.raw`sk-ant-[A-Za-z0-9_-]{16,}`, token: true },
  {
    // sk-…, sk-proj-…, sk-svcacct-…, sk-admin-…; "sk-" followed by words is a CSS class, not a key.
    name: 'openai_key',
    kinds: ['openai_key'],
    source: String.raw`sk-(?:proj-|svcacct-|admin-|None-)?(?<openai_body>[A-Za-z0-9_-]{20,})`,
    token: true,
    replace: (m) =>
      looksRandom(m.groups.openai_body!) ? { kind: 'openai_key', secret: m.value, text: redacted('openai_key') } : undefined,
  },
  // Google Cloud and Google AI (Gemini) API keys.
  { name: 'google_api_key', kinds: ['google_api_key'], source: String.raw`AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])`, token: true },
  {
    // OAuth client secrets, access tokens and refresh tokens of Google accounts.
    name: 'google_oauth',
    kinds: ['google_oauth'],
    source: String.raw`(?:GOCSPX-[A-Za-z0-9_-]{28}|ya29\.[A-Za-z0-9_-]{30,}|1//0[A-Za-z0-9_-]{40,})`,
    token: true,
  },
  {
    // Entra ID (Azure AD) client secrets: three characters, a digit, "Q~", 31-34 more. Found
    // by its "Q~"; the four characters before it are checked here.
    name: 'azure_client_secret',
    kinds: ['azure_client_secret'],
    source: String.raw`Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])`,
    replace: (m) => {
      const start = m.index - 4;
      if (start < 0 || !/^[A-Za-z0-9_~.-]{3}[0-9]$/.test(m.input.slice(start, m.index)) || !tokenStartsAt(m.input, start)) return undefined;
      return {
        kind: 'azure_client_secret',
        secret: m.input.slice(start, m.index) + m.value,
        text: redacted('azure_client_secret'),
        back: 4,
      };
    },
  },
  { name: 'npm_token', kinds: ['npm_token'], source: String.raw`npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])`, token: true },
  { name: 'pypi_token', kinds: ['pypi_token'], source: String.raw`pypi-AgE[A-Za-z0-9_-]{50,}`, token: true },
  {
    name: 'huggingface_token',
    kinds: ['huggingface_token'],
    source: String.raw`hf_(?<hf_body>[A-Za-z0-9]{34,40})(?![A-Za-z0-9])`,
    token: true,
    replace: (m) =>
      looksRandom(m.groups.hf_body!) ? { kind: 'huggingface_token', secret: m.value, text: redacted('huggingface_token') } : undefined,
  },
  { name: 'jwt', kinds: ['jwt'], source: String.raw`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, token: true },
];

// ── values recognised by their context ──────────────────────────────────────

const URL_CREDENTIALS: Detector = {
  // scheme://user:password@host, also with an empty user (redis://:password@host).
  name: 'url_credentials',
  kinds: ['url_credentials'],
  source: String.raw`://(?<url_user>[^\s:/@"'\x60\\]{0,128}):(?<url_pass>[^\s@/"'\x60\\\[\]]{1,256})@(?=[A-Za-z0-9\[])`,
  replace: (m) => {
    const pass = m.groups.url_pass!;
    // Four characters at least: documentation's http://abc:xyz@example.com is no credential.
    if (pass.length < 4 || isPlaceholder(pass) || /^(?:pass|pwd|user|username|port)$/i.test(pass)) return undefined;
    return { kind: 'url_credentials', secret: pass, text: `://${m.groups.url_user}:${redacted('url_credentials')}@`, learn: true };
  },
};

const AZURE_STORAGE: Detector = {
  // Storage account and Service Bus keys in connection strings, and SAS signatures in URLs.
  name: 'azure_storage_key',
  kinds: ['azure_storage_key', 'azure_sas_token'],
  source: String.raw`(?:AccountKey|SharedAccessKey)=(?<az_key>[A-Za-z0-9+/]{40,}={0,2})|[?&;]sig=(?<az_sig>[A-Za-z0-9%+/=_-]{16,})`,
  replace: (m) =>
    m.groups.az_sig !== undefined
      ? replaceTail(m, m.groups.az_sig, 'azure_sas_token')
      : replaceTail(m, m.groups.az_key!, 'azure_storage_key', true),
};

const BASIC_AUTH: Detector = {
  // curl -u user:password, --user=user:password; Authorization: Basic <base64>.
  name: 'basic_auth',
  kinds: ['basic_auth'],
  source: String.raw`-(?:u|-user)[ =]+(?:${QUOTE})?[^\s:"'\\]+:(?<basic_pass>[^\s"'\\]{3,})|Basic[ \t]+(?<basic_b64>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])`,
  replace: (m) => {
    const pass = m.groups.basic_pass;
    if (pass !== undefined)
      return /\s/.test(m.input[m.index - 1] ?? ' ') && !isPlaceholder(pass) ? replaceTail(m, pass, 'basic_auth', true) : undefined;
    // Only as an Authorization header's value: "Basic understanding" is prose.
    return /[Aa]uthorization\\{0,3}["']?[ \t]*[:=][ \t]*\\{0,3}["']?$/.test(m.input.slice(Math.max(0, m.index - 24), m.index))
      ? replaceTail(m, m.groups.basic_b64!, 'basic_auth')
      : undefined;
  },
};

const BEARER: Detector = {
  name: 'bearer_token',
  kinds: ['bearer_token'],
  source: String.raw`[Bb]earer[ \t]+(?<bearer>[A-Za-z0-9._~+/-]{16,}=*)`,
  replace: (m) => {
    const token = m.groups.bearer!;
    // "Bearer authentication" is prose; a token has digits or punctuation, or mixed case.
    if (!tokenStartsAt(m.input, m.index) || (!/[0-9._~+/-]/.test(token) && !(hasUpper(token) && hasLower(token)))) return undefined;
    return replaceTail(m, token, 'bearer_token');
  },
};

const CLI_PASSWORD: Detector = {
  // The password of mysql -pSECRET and sshpass -p SECRET.
  name: 'cli_password',
  kinds: ['password'],
  source: String.raw`(?:sshpass[ \t]+-p[ \t]*|mysql(?:dump|admin|sh)?\b[^\n\\|;&]{0,200}?[ \t]-p)(?<cli_pass>[^\s"'\\]{3,})`,
  replace: (m) => (isPlaceholder(m.groups.cli_pass!) ? undefined : replaceTail(m, m.groups.cli_pass!, 'password', true)),
};

// ── key = value ──────────────────────────────────────────────────────────────

/**
 * Identifiers that end in `key` and name a secret (apiKey, x-api-key, AWS_SECRET_ACCESS_KEY);
 * a plain `key` (a map key, a cache key) does not.
 */
const SECRET_KEY_NAME = /(?:api|access|secret|private|auth|signing|encryption|master|account|sharedaccess|license|client|app)key$/;
/** Tokens that are not credentials: pagination and parser tokens. */
const NOT_SECRET_TOKEN = /(?:page|next|continuation|sync|cancellation|cancel|lexer|parser|max|num|input|output|total)token$/;

/**
 * The identifier that ends where the keyword match starts (lower case, without separators), the
 * words before it, and whether it is a command-line flag.
 */
function identifierBefore(input: string, index: number): { name: string; label: string; start: number; flag: boolean } {
  let start = index;
  while (start > 0 && /[A-Za-z0-9_.-]/.test(input[start - 1]!) && index - start < 64) start--;
  const raw = input.slice(start, index);
  // A label of words, as prompts show them ("AWS Secret Access Key [None]: …").
  let labelStart = start;
  while (labelStart > 0 && /[A-Za-z ]/.test(input[labelStart - 1]!) && index - labelStart < 40) labelStart--;
  const compact = (s: string) => s.toLowerCase().replace(/[_. -]/g, '');
  return { name: compact(raw), label: compact(input.slice(labelStart, index)), start, flag: raw.startsWith('-') };
}

/**
 * The kind of the value of an identifier `prefix` + `word` (separators removed), or undefined
 * when it names no secret; `before` is the character before `word`.
 */
function secretKind(word: string, prefix: string, before: string | undefined): string | undefined {
  const name = prefix + word;
  switch (word) {
    case 'key':
      if (!SECRET_KEY_NAME.test(name)) return undefined;
      return name.endsWith('secretaccesskey')
        ? 'aws_secret_key'
        : /(?:account|sharedaccess)key$/.test(name)
          ? 'azure_storage_key'
          : 'secret';
    case 'token':
      return NOT_SECRET_TOKEN.test(name) ? undefined : 'secret';
    case 'secret':
      return 'secret';
    case 'pwd':
      // ODBC's Pwd=, DB_PWD; the shell's PWD and OLDPWD hold a path (see PATH_VALUE).
      return 'password';
    case 'pass':
      // SMTP_PASS, not a YAML `pass: true`.
      return before !== undefined && /[_.-]/.test(before) ? 'password' : undefined;
    default:
      return 'password';
  }
}

/** A file path: the value of the shell's PWD, not a password. */
const PATH_VALUE = /^(?:[/~]|[A-Za-z]:[\\/])/;

/** A .netrc entry before `password <value>`: `machine <host> login <user> `, on one line or several. */
const NETRC_LOGIN = /\blogin(?:\s|\\[nrt])+\S+?(?:\s|\\[nrt])+$/;

/** Ends a bare value: white space, quotes, JSON and code punctuation, escapes. */
const BARE_VALUE = String.raw`[^\s"'\x60,;&<>()\[\]{}\\=][^\s"'\x60;&<>()\[\]{}\\]{2,}`;

const ASSIGNMENT: Detector = {
  // KEY=value (.env, shell, query strings), key: value (YAML, HTTP headers), "key": "value"
  // (JSON, also escaped), key = "value" (TOML, code), 'key' => 'value', key := "value";
  // --flag value; <password>value</password>; and in prose, a quoted value after the keyword
  // ("the password `x`", "the token is 'x'"). Found by the keyword ending the identifier; the
  // identifier before it decides (apiKey yes, cacheKey no).
  name: 'secret_assignment',
  kinds: ['password', 'secret', 'aws_secret_key', 'azure_storage_key'],
  source:
    String.raw`(?<kw_word>key|secret|token|pass(?:word|wd|phrase)?|pwd)(?:` +
    String.raw`(?<kw_sep>(?:${QUOTE})?(?:[ \t]*\[[^\]\r\n]{0,30}\])?[ \t]*(?:=>|:=|[:=])[ \t]*)(?:(?<kw_q>${QUOTE}|\x60)(?<kw_qval>[^"'\x60\\\r\n]{1,200})(?=\\{0,3}["'\x60])|(?<kw_val>${BARE_VALUE}))` +
    String.raw`|>(?<kw_xval>[^<\s]{3,200})(?=</)` +
    String.raw`|(?<kw_prose>[ \t]+(?:(?:is|was|of)[ \t]+)?(?:${QUOTE}|\x60))(?<kw_pval>[^"'\x60\\\r\n ]{3,200})(?=\\{0,3}["'\x60])` +
    String.raw`|[ \t]+(?<kw_fq>${QUOTE})?(?<kw_fval>[^\s"'\\-][^\s"'\\]{2,}))`,
  replace: (m) => {
    const g = m.groups;
    const ident = identifierBefore(m.input, m.index);
    const word = g.kw_word!.toLowerCase();
    const kind = secretKind(word, ident.name, m.input[m.index - 1]) ?? secretKind(word, ident.label, m.input[m.index - 1]);
    if (kind === undefined) return undefined;
    const next = m.input[m.index + m.value.length];
    let value: string;
    if (g.kw_qval !== undefined || g.kw_pval !== undefined) {
      value = (g.kw_qval ?? g.kw_pval)!;
      if (!quotedValueIsSecret(value) || (word === 'pwd' && PATH_VALUE.test(value))) return undefined;
    } else if (g.kw_fval !== undefined) {
      // `--api-key value` only as a command-line flag, `password value` only in a .netrc.
      value = g.kw_fval;
      if (
        !(ident.flag || (ident.name === '' && NETRC_LOGIN.test(m.input.slice(Math.max(0, m.index - 200), m.index)))) ||
        (g.kw_fq ? !quotedValueIsSecret(value) : !bareValueIsSecret(value, next))
      )
        return undefined;
    } else if (g.kw_xval !== undefined) {
      value = g.kw_xval;
      if (m.input[ident.start - 1] !== '<' || !quotedValueIsSecret(value)) return undefined;
    } else {
      value = g.kw_val!.replace(/,+$/, ''); // a trailing comma ends a YAML flow or JSON item
      if (!bareValueIsSecret(value, next) || (word === 'pwd' && PATH_VALUE.test(value))) return undefined;
      const rest = g.kw_val!.slice(value.length);
      return { kind, secret: value, text: m.value.slice(0, m.value.length - g.kw_val!.length) + redacted(kind) + rest, learn: true };
    }
    return replaceTail(m, value, kind, true);
  },
};

// ── personal data ───────────────────────────────────────────────────────────

const LOCAL_PART = /[A-Za-z0-9._%+-]/;
const MAX_LOCAL_PART = 64;
/** "Top-level domains" that are file extensions: logo@2x.png, module@1.2.js are not addresses. */
const FILE_EXTENSIONS = new Set(
  'png jpg jpeg gif svg webp ico bmp js mjs cjs jsx ts tsx json css scss less html htm md txt py rb go rs java kt swift c h cpp hpp cs php pl sh yml yaml toml xml map wasm lock log tar gz tgz zip bin dll exe so dylib'.split(
    ' ',
  ),
);

/** The e-mail local part that ends right before `at` (the @). */
function localPartBefore(input: string, at: number): string {
  let start = at;
  while (start > 0 && at - start < MAX_LOCAL_PART && LOCAL_PART.test(input[start - 1]!)) start--;
  // A JSON escape before the address (`\nuser@…`) is not part of it.
  if (start > 0 && input[start - 1] === '\\' && /[nrt]/.test(input[start]!)) start++;
  return input.slice(start, at).replace(/^\.+/, '');
}

const EMAIL: Detector = {
  // Found by its @; the local part is taken by walking back from it.
  name: 'email',
  kinds: ['email'],
  source: String.raw`@(?<email_domain>[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+(?<email_tld>[A-Za-z]{2,24}))(?![A-Za-z0-9-])`,
  replace: (m) => {
    const local = localPartBefore(m.input, m.index);
    if (local.length === 0 || FILE_EXTENSIONS.has(m.groups.email_tld!.toLowerCase())) return undefined;
    // git@github.com:org/repo and ssh://git@host/repo are SSH remotes, https://user@host and https://user:password@host a login: not addresses.
    const before = m.input.slice(Math.max(0, m.index - local.length - 140), m.index - local.length);
    if (/:\/\/(?:[^\s/@:]*:)?$/.test(before) || (local === 'git' && m.input[m.index + m.value.length] === ':')) return undefined;
    return { kind: 'email', secret: local + m.value, text: redacted('email'), back: local.length };
  },
};

const HOME_PATH: Detector = {
  // /home/<user>, /Users/<user>, C:\Users\<user> (also C:/Users, WSL's /mnt/c/Users and JSON-escaped) become ~,
  // and so does the user in Claude Code's project directory names (-home-<user>-project).
  name: 'home_path',
  kinds: ['home_path'],
  source: [
    String.raw`/(?<![\w.~:/-]/)(?:home|Users)/(?<home_user>[^/\s"'\x60:;,\\<>|*?()\[\]{}]{1,64})`,
    String.raw`/mnt/[A-Za-z]/Users/(?<wsl_user>[^/\s"'\x60:;,\\<>|*?()\[\]{}]{1,64})`,
    String.raw`:(?:\\+|/)Users(?:\\+|/)(?<win_user>[^\\/\s"'\x60:;,<>|*?()\[\]{}]{1,64})`,
    String.raw`-(?<![\w-]-)(?:home|Users)-(?<mangled_user>[A-Za-z0-9_]{1,64})(?=-)`,
  ].join('|'),
  replace: (m) => {
    const win = m.groups.win_user;
    const user = win ?? m.groups.home_user ?? m.groups.wsl_user ?? m.groups.mangled_user!;
    if (!/[A-Za-z0-9]/.test(user)) return undefined; // C:\Users\...\AppData in documentation
    if (win === undefined) return { kind: 'home_path', secret: user, text: '~' };
    // C:\Users\<user>: the drive letter is checked here (the regex starts at the colon).
    if (m.index === 0 || !/[A-Za-z]/.test(m.input[m.index - 1]!) || (m.index >= 2 && WORD_CHAR.test(m.input[m.index - 2]!)))
      return undefined;
    return { kind: 'home_path', secret: win, text: '~', back: 1 };
  },
};

/** The passes in the order they run: keys before the tokens inside them, tokens before the keywords naming them. */
export const BUILTIN_PASSES: readonly Pass[] = [
  { name: 'private keys', gate: ['PRIVATE KEY'], detectors: [PRIVATE_KEY] },
  { name: 'tokens', detectors: TOKENS },
  { name: 'URL credentials', gate: ['://'], detectors: [URL_CREDENTIALS] },
  { name: 'Azure connection strings', gate: ['AccountKey=', 'SharedAccessKey=', 'sig='], detectors: [AZURE_STORAGE] },
  { name: 'HTTP and CLI credentials', gate: ['earer', 'Basic', '-u', 'sshpass', 'mysql'], detectors: [BEARER, BASIC_AUTH, CLI_PASSWORD] },
  { name: 'assignments', caseInsensitive: true, detectors: [ASSIGNMENT] },
  { name: 'e-mail addresses', gate: ['@'], detectors: [EMAIL] },
  { name: 'home directories', detectors: [HOME_PATH] },
];

export const BUILTIN_DETECTOR_NAMES: readonly string[] = BUILTIN_PASSES.flatMap((p) => p.detectors.map((d) => d.name));
