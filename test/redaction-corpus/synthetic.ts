/**
 * Synthetic secrets that look like the real ones (prefixes, lengths, alphabets) and are
 * random, from a seeded generator: the corpus is the same on every run and holds no real
 * credential.
 */

/** mulberry32: a small seeded PRNG, enough for test data. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  string(alphabet: string, length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';
export const HEX = '0123456789abcdef';
export const BASE62 = UPPER + LOWER + DIGITS;
export const BASE64 = BASE62 + '+/';
export const URLSAFE = BASE62 + '_-';
const BASE32 = UPPER + '234567';

/** A base62 token with at least one digit and one capital (as real random tokens of this length have). */
function mixed(r: Random, length: number, alphabet = BASE62): string {
  for (;;) {
    const s = r.string(alphabet, length);
    if (/[0-9]/.test(s) && /[A-Z]/.test(s) && /[a-z]/.test(s)) return s;
  }
}

const base64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

/** A PEM body: base64 of random bytes starting with the DER prefix of its type, in lines of 64 (70 for OpenSSH). */
function pemBody(r: Random, prefix: Buffer, bytes: number, width = 64): string {
  const b64 = Buffer.concat([prefix, r.bytes(bytes)]).toString('base64');
  return b64.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');
}

const PEM_TYPES = [
  { label: 'RSA PRIVATE KEY', prefix: Buffer.from('308204a40201000282010100', 'hex'), bytes: 1180, width: 64 },
  { label: 'EC PRIVATE KEY', prefix: Buffer.from('307702010104', 'hex'), bytes: 113, width: 64 },
  { label: 'PRIVATE KEY', prefix: Buffer.from('308204bd020100300d06092a864886f70d0101010500', 'hex'), bytes: 1190, width: 64 },
  { label: 'ENCRYPTED PRIVATE KEY', prefix: Buffer.from('308205243056', 'hex'), bytes: 1300, width: 64 },
  { label: 'OPENSSH PRIVATE KEY', prefix: Buffer.from('openssh-key-v1\0\0\0\0\x04none', 'latin1'), bytes: 380, width: 70 },
];

export interface Secret {
  kind: string;
  value: string;
}

type Generator = (r: Random) => Secret;

const FIRST = ['jane', 'omar', 'li', 'priya', 'lucas', 'ana', 'kenji', 'fatima', 'noah', 'elena', 'tomasz', 'amara'];
const LAST = ['doe', 'haddad', 'wei', 'natarajan', 'silva', 'costa', 'tanaka', 'diallo', 'smith', 'ivanova', 'nowak', 'okafor'];
const DOMAINS = ['example.com', 'acme-corp.io', 'corp.example.org', 'mail.example.net', 'payments.example.co.uk', 'gmail.com'];
const USERNAMES = [
  'jdoe',
  'omar',
  'li.wei',
  'priya_n',
  'lsilva',
  'ana-costa',
  'kenji',
  'fdiallo',
  'runner',
  'ubuntu',
  'Noah Smith',
  'e.ivanova',
];

export const person = (r: Random) => ({ first: r.pick(FIRST), last: r.pick(LAST), domain: r.pick(DOMAINS) });
export const username = (r: Random): string => r.pick(USERNAMES.filter((u) => !u.includes(' ')));

/** Passwords as people and password managers make them: words with digits and symbols, or random. */
export function password(r: Random): string {
  switch (r.int(3)) {
    case 0:
      return `${r.pick(['Summer', 'Winter', 'Blue', 'Tr0ub4dor', 'Correct', 'Falcon'])}${r.string(DIGITS, 2 + r.int(3))}${r.pick(['!', '#', '*', '.', '_', '@', '%', '^', '~', '+'])}${r.string(BASE62, 2)}`;
    case 1:
      return mixed(r, 16 + r.int(16));
    default:
      return mixed(r, 12 + r.int(12), BASE62 + '!#%*+-_.~^@:');
  }
}

/** One generator per detector kind; several shapes each. */
export const SECRETS: Record<string, Generator[]> = {
  aws_access_key: [
    (r) => ({ kind: 'aws_access_key', value: 'AKIA' + r.string(BASE32, 16) }),
    (r) => ({ kind: 'aws_access_key', value: 'ASIA' + r.string(BASE32, 16) }),
  ],
  aws_secret_key: [(r) => ({ kind: 'aws_secret_key', value: mixed(r, 40, BASE64) })],
  github_token: [
    (r) => ({ kind: 'github_token', value: r.pick(['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_']) + mixed(r, 36) }),
    (r) => ({ kind: 'github_token', value: `github_pat_11${r.string(UPPER + DIGITS, 20)}_${mixed(r, 59)}` }),
  ],
  gitlab_token: [
    (r) => ({ kind: 'gitlab_token', value: 'glpat-' + mixed(r, 20, URLSAFE) }),
    (r) => ({ kind: 'gitlab_token', value: r.pick(['glrt-', 'gldt-', 'glptt-']) + mixed(r, 20 + r.int(20), URLSAFE) }),
  ],
  slack_token: [
    (r) => ({ kind: 'slack_token', value: `${r.pick(['xoxb', 'xoxp'])}-${r.string(DIGITS, 11)}-${r.string(DIGITS, 13)}-${mixed(r, 24)}` }),
    (r) => ({ kind: 'slack_token', value: `xapp-1-A${r.string(UPPER + DIGITS, 10)}-${r.string(DIGITS, 13)}-${r.string(HEX, 64)}` }),
  ],
  slack_webhook: [
    (r) => ({
      kind: 'slack_webhook',
      value: `https://hooks.slack.com/services/T${r.string(UPPER + DIGITS, 8)}/B${r.string(UPPER + DIGITS, 10)}/${mixed(r, 24)}`,
    }),
  ],
  stripe_key: [
    (r) => ({ kind: 'stripe_key', value: `${r.pick(['sk_live_', 'rk_live_', 'sk_test_'])}${mixed(r, r.pick([24, 99]))}` }),
    (r) => ({ kind: 'stripe_key', value: 'whsec_' + mixed(r, 32) }),
  ],
  anthropic_key: [
    (r) => ({ kind: 'anthropic_key', value: `sk-ant-api03-${mixed(r, 93, URLSAFE)}AA` }),
    (r) => ({ kind: 'anthropic_key', value: `sk-ant-admin01-${mixed(r, 93, URLSAFE)}AA` }),
  ],
  openai_key: [
    (r) => ({ kind: 'openai_key', value: `sk-proj-${mixed(r, 74, URLSAFE)}T3BlbkFJ${mixed(r, 74, URLSAFE)}` }),
    (r) => ({ kind: 'openai_key', value: `sk-svcacct-${mixed(r, 74, URLSAFE)}T3BlbkFJ${mixed(r, 74, URLSAFE)}` }),
    (r) => ({ kind: 'openai_key', value: `sk-${mixed(r, 20)}T3BlbkFJ${mixed(r, 20)}` }),
  ],
  google_api_key: [(r) => ({ kind: 'google_api_key', value: 'AIzaSy' + mixed(r, 33, URLSAFE) })],
  google_oauth: [
    (r) => ({ kind: 'google_oauth', value: 'GOCSPX-' + mixed(r, 28, URLSAFE) }),
    (r) => ({ kind: 'google_oauth', value: 'ya29.' + mixed(r, 150, URLSAFE) }),
  ],
  azure_storage_key: [(r) => ({ kind: 'azure_storage_key', value: r.bytes(64).toString('base64') })],
  azure_sas_token: [(r) => ({ kind: 'azure_sas_token', value: encodeURIComponent(r.bytes(32).toString('base64')) })],
  azure_client_secret: [(r) => ({ kind: 'azure_client_secret', value: `${mixed(r, 3)}${r.int(10)}Q~${mixed(r, 34, BASE62 + '_~.-')}` })],
  npm_token: [(r) => ({ kind: 'npm_token', value: 'npm_' + mixed(r, 36) })],
  pypi_token: [(r) => ({ kind: 'pypi_token', value: 'pypi-AgEIcHlwaS5vcmc' + mixed(r, 140, URLSAFE) })],
  huggingface_token: [(r) => ({ kind: 'huggingface_token', value: 'hf_' + mixed(r, 34) })],
  jwt: [
    (r) => {
      const header = base64url(JSON.stringify({ alg: r.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' }));
      const payload = base64url(
        JSON.stringify({ sub: r.string(DIGITS, 8), iat: 1_790_000_000 + r.int(1e7), exp: 1_800_000_000 + r.int(1e7) }),
      );
      return { kind: 'jwt', value: `${header}.${payload}.${base64url(r.bytes(32))}` };
    },
  ],
  private_key: PEM_TYPES.map((t) => (r: Random) => ({
    kind: 'private_key',
    value: `-----BEGIN ${t.label}-----\n${pemBody(r, t.prefix, t.bytes, t.width)}\n-----END ${t.label}-----`,
  })),
  password: [(r) => ({ kind: 'password', value: password(r) })],
  bearer_token: [
    (r) => ({
      kind: 'bearer_token',
      value: r.pick([mixed(r, 40, URLSAFE + '.~'), `${mixed(r, 8)}.${mixed(r, 32)}`, base64url(r.bytes(30))]),
    }),
  ],
  secret: [
    (r) => ({
      kind: 'secret',
      value: r.pick([mixed(r, 32), r.string(HEX, 64), base64url(r.bytes(24)), `django-insecure-${mixed(r, 50)}`]),
    }),
  ],
  email: [
    (r) => {
      const p = person(r);
      return {
        kind: 'email',
        value: r.pick([`${p.first}.${p.last}@${p.domain}`, `${p.first[0]}${p.last}@${p.domain}`, `${p.first}+ci@${p.domain}`]),
      };
    },
  ],
};

export function generate(r: Random, kind: string): Secret {
  return r.pick(SECRETS[kind]!)(r);
}
