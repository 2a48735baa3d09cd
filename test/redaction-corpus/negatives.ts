/**
 * Negatives: text of coding sessions that holds no secret and no personal data, and that
 * detectors are likely to mistake for one. Real code (a snapshot of this repository's source,
 * and files of installed packages, read where npm installed them: the lockfile pins their
 * versions), and generated look-alikes: hashes and commit ids, UUIDs, base64 blobs,
 * certificates and public keys, lockfile integrity lines, placeholders and code that names
 * secrets without holding one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE62, BASE64, DIGITS, HEX, LOWER, Random } from './synthetic.ts';

export interface NegativeSample {
  source: string;
  text: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');

/** Lines per sample of a file: about what one Read of a file part shows. */
const LINES_PER_SAMPLE = 40;
/** Minified code has few, long lines: cut them. */
const MAX_SAMPLE_CHARS = 8_000;
/** Of each installed file, at most this much (a compiler bundle is megabytes). */
const MAX_FILE_CHARS = 300_000;

/** Installed package files, by pattern relative to node_modules (pinned by package-lock.json). */
const PACKAGE_FILES: [dir: string, pattern: RegExp][] = [
  ['kafkajs/src', /\.js$/],
  ['@clickhouse/client-common/dist', /\.js$/],
  ['@grpc/grpc-js/build/src', /(?:credentials|channel|http_proxy|resolver).*\.js(?:\.map)?$/],
  ['yaml/dist', /\.js$/],
  ['postcss/lib', /\.js$/],
  ['protobufjs/dist', /^protobuf\.min\.js$/],
  ['@opentelemetry/core/build/src', /\.js$/],
  ['vite/dist/node/chunks', /^(?:build|dist)\.js$/],
  ['typescript/lib', /^tsc\.js$/],
  ['@types/node', /^(?:crypto|tls|https|http|url|child_process|fs|process)\.d\.ts$/],
  ['kafkajs', /^README\.md$/],
  ['@clickhouse/client', /^README\.md$/],
  ['@grpc/grpc-js', /^README\.md$/],
  ['yaml', /^README\.md$/],
];

function chunks(source: string, text: string): NegativeSample[] {
  const lines = text.split('\n');
  const out: NegativeSample[] = [];
  for (let i = 0; i < lines.length; i += LINES_PER_SAMPLE) {
    const part = lines.slice(i, i + LINES_PER_SAMPLE).join('\n');
    for (let j = 0; j < part.length; j += MAX_SAMPLE_CHARS) out.push({ source, text: part.slice(j, j + MAX_SAMPLE_CHARS) });
  }
  return out.filter((s) => s.text.trim() !== '');
}

function filesUnder(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => pattern.test(path.basename(f)) && statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => path.join(dir, f));
}

/** The repository snapshot (negatives/*.txt) and the installed package files, in samples. */
export function fileNegatives(): NegativeSample[] {
  const out: NegativeSample[] = [];
  for (const file of readdirSync(path.join(HERE, 'negatives')).sort()) {
    out.push(...chunks(`negatives/${file}`, readFileSync(path.join(HERE, 'negatives', file), 'utf8')));
  }
  for (const [dir, pattern] of PACKAGE_FILES) {
    const abs = path.join(ROOT, 'node_modules', dir);
    if (!existsSync(abs)) throw new Error(`redaction corpus: node_modules/${dir} is missing (npm install)`);
    for (const file of filesUnder(abs, pattern)) {
      out.push(...chunks(path.relative(ROOT, file), readFileSync(file, 'utf8').slice(0, MAX_FILE_CHARS)));
    }
  }
  return out;
}

// ── generated look-alikes ────────────────────────────────────────────────────

const PACKAGES = [
  'react',
  'lodash',
  'typescript',
  'vite',
  'esbuild',
  '@types/node',
  'kafkajs',
  'yaml',
  'zod',
  'express',
  'pg',
  'debug',
  'ms',
];
const SUBJECTS = [
  'fix: retry the producer on a leader change',
  'feat(api): paginate the sessions endpoint',
  'chore(deps): bump vite from 7.1.2 to 7.1.5',
  'Merge pull request #412 from acme/token-refresh',
  'docs: how to rotate the ingest token',
  'refactor: move secret loading into config/secrets.ts',
  'test: password reset flow',
];
const version = (r: Random) => `${r.int(20)}.${r.int(30)}.${r.int(40)}`;
const uuid = (r: Random) =>
  `${r.string(HEX, 8)}-${r.string(HEX, 4)}-4${r.string(HEX, 3)}-${r.pick(['8', '9', 'a', 'b'])}${r.string(HEX, 3)}-${r.string(HEX, 12)}`;
const b64 = (r: Random, bytes: number) => r.bytes(bytes).toString('base64');
const wrap = (s: string, width: number) => s.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');

/** Placeholders, references and code that name a secret without holding one. */
const CODE_THAT_NAMES_SECRETS = [
  'const token = req.headers.authorization?.split(" ")[1];',
  'password: string;',
  'export interface Credentials { username: string; password?: string; token: string | undefined }',
  'apiKey: process.env.OPENAI_API_KEY,',
  'api_key=os.environ["OPENAI_API_KEY"]',
  "secret: config.get('session.secret'),",
  'DB_PASSWORD=${DB_PASSWORD}',
  'password: ${{ secrets.DB_PASSWORD }}',
  '  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}',
  '"password": "",',
  'password = None',
  "if (!token) throw new Error('missing token');",
  "const secretKey = await getSecret('stripe');",
  'TOKEN=$(gh auth token)',
  'export AWS_SECRET_ACCESS_KEY=$(vault read -field=secret_key aws/creds/deploy)',
  'curl -H "Authorization: Bearer $OPENAI_API_KEY" https://api.openai.com/v1/models',
  'headers: { Authorization: `Bearer ${token}` },',
  'stripe.api_key = os.getenv("STRIPE_SECRET_KEY")',
  '<input type="password" name="password" autocomplete="current-password" />',
  "{ label: 'Password', type: 'password', placeholder: 'Enter your password' },",
  'passwordField.sendKeys(password);',
  'tokens.push(token);',
  'max_tokens: 1024,',
  '"token_type": "Bearer", "expires_in": 3600, "scope": "read"',
  '"token_count": 512,',
  'password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())',
  'echo "$CR_PAT" | docker login ghcr.io -u USERNAME --password-stdin',
  "grep -rn 'password' src/ --include=*.ts",
  '# TODO: rotate the token before the release',
  'The token expires after one hour; the refresh token after 30 days.',
  'Enter your API key:',
  'api_key: str = Field(..., description="The API key of the account")',
  'OPENAI_API_KEY=your-api-key-here',
  'STRIPE_SECRET_KEY=sk_test_xxx',
  'password: changeme',
  'SECRET_KEY=',
  'token: <your-token>',
  'const { password, ...user } = row;',
  'user.password = await hash(input.password);',
  'this.token = options.token ?? null;',
  'self.secret_key = secret_key',
  'def login(username: str, password: str) -> Token:',
  "if password == '':",
  'func (c *Client) SetToken(token string) { c.token = token }',
  'let secret = std::env::var("APP_SECRET").expect("APP_SECRET");',
  'password := os.Getenv("DB_PASSWORD")',
  'const PASSWORD_MIN_LENGTH = 12;',
  "throw new ConfigError('auth.tokens', 'must be a list of tokens');",
  'Authorization: Bearer <token>',
  'Authorization: Basic <credentials>',
  'The bearer authentication scheme sends a token with each request.',
  '.sk-fading-circle .sk-circle:before { animation: sk-circleFadeDelay 1.2s infinite ease-in-out both; }',
  '.sk-chasing-dots-animation-container { width: 40px }',
  'img.logo { background-image: url("logo@2x.png"); }',
  'git clone git@github.com:acme/payments-api.git',
  'npm install lodash@4.17.21 @types/node@22.10.1',
  'go get github.com/spf13/cobra@v1.8.1',
  'postgres://localhost:5432/app_test',
  'redis://cache:6379/0',
  'mongodb://mongo:27017/test?replicaSet=rs0',
  'ssh://git@github.com/acme/api.git',
  'https://user@bitbucket.org/acme/api.git',
  "@app.route('/api/users/<int:user_id>')",
  'ls -la ~/projects /usr/local/bin /var/lib/docker',
  'cd ~ && ls .ssh',
  'docker run -v $HOME/.aws:/root/.aws:ro amazon/aws-cli s3 ls',
  'const key = `${prefix}:${id}`;',
  'AWS_ACCESS_KEY_ID=AKIA...  # from the IAM console',
  'kubectl create secret generic db --from-literal=password="$DB_PASSWORD"',
  'mysql -u root -p -h 127.0.0.1',
  'psql -h localhost -U postgres -W',
  'password = var.db_password',
  'token     = data.vault_generic_secret.ci.data["token"]',
  '$password = ConvertTo-SecureString $env:SP_SECRET -AsPlainText -Force',
  'secret_key = settings.SECRET_KEY',
  'Set-Item -Path Env:API_KEY -Value $apiKey',
  'const { data: { session_token } } = await client.auth.signIn({ email, password });',
  'parser.add_argument("--token", help="personal access token (or set GITHUB_TOKEN)")',
  '  -p, --password <password>  database password (default: $PGPASSWORD)',
  '      --api-key string   API key to use (env: ACME_API_KEY)',
  'Token: (none)',
  'password: !vault |',
  'secret: {{ .Values.secret }}',
  'token: \'{{ env "CI_JOB_TOKEN" }}\'',
];

const FILE_NAMES = ['dist/index.js', 'dist/index.mjs', 'dist/cli.js', 'build/app.tar.gz', 'release/agentotel-0.1.0.tgz', 'public/logo.png'];

type Generator = (r: Random) => string;

const GENERATORS: Record<string, Generator> = {
  'git log --oneline': (r) => Array.from({ length: 15 }, () => `${r.string(HEX, 7)} ${r.pick(SUBJECTS)}`).join('\n'),
  'git log': (r) =>
    Array.from(
      { length: 4 },
      () => `commit ${r.string(HEX, 40)}\nDate:   Fri Nov 21 2${r.int(10)}:14:07 2026 +0100\n\n    ${r.pick(SUBJECTS)}\n`,
    ).join('\n'),
  'git diff header': (r) =>
    `diff --git a/src/auth/token.ts b/src/auth/token.ts\nindex ${r.string(HEX, 7)}..${r.string(HEX, 7)} 100644\n--- a/src/auth/token.ts\n+++ b/src/auth/token.ts\n@@ -1,6 +1,7 @@\n-import { verify } from './jwt';\n+import { verify, decode } from './jwt';\n export function bearer(header: string | undefined): string | undefined {\n   return header?.startsWith('Bearer ') ? header.slice(7) : undefined;\n }`,
  sha256sum: (r) => FILE_NAMES.map((f) => `${r.string(HEX, 64)}  ${f}`).join('\n'),
  'shasum/md5sum': (r) => FILE_NAMES.map((f) => `${r.string(HEX, r.pick([32, 40]))}  ${f}`).join('\n'),
  'docker images --digests': (r) =>
    `REPOSITORY          TAG       DIGEST                                                                    IMAGE ID       SIZE\n` +
    Array.from(
      { length: 4 },
      () => `ghcr.io/acme/api    ${version(r)}    sha256:${r.string(HEX, 64)}   ${r.string(HEX, 12)}   ${r.int(900)}MB`,
    ).join('\n'),
  'npm lockfile': (r) =>
    Array.from({ length: 4 }, () => {
      const pkg = r.pick(PACKAGES);
      const v = version(r);
      return `    "node_modules/${pkg}": {\n      "version": "${v}",\n      "resolved": "https://registry.npmjs.org/${pkg}/-/${pkg.split('/').pop()}-${v}.tgz",\n      "integrity": "sha512-${b64(r, 64)}",\n      "license": "MIT"\n    },`;
    }).join('\n'),
  'yarn.lock': (r) =>
    Array.from({ length: 3 }, () => {
      const pkg = r.pick(PACKAGES);
      const v = version(r);
      return `"${pkg}@^${v}":\n  version "${v}"\n  resolved "https://registry.yarnpkg.com/${pkg}/-/${pkg.split('/').pop()}-${v}.tgz#${r.string(HEX, 40)}"\n  integrity sha512-${b64(r, 64)}\n`;
    }).join('\n'),
  'go.sum': (r) =>
    Array.from(
      { length: 6 },
      () => `github.com/${r.pick(['spf13/cobra', 'stretchr/testify', 'google/uuid'])} v${version(r)} h1:${r.bytes(32).toString('base64')}`,
    ).join('\n'),
  'Cargo.lock': (r) =>
    `[[package]]\nname = "${r.pick(['serde', 'tokio', 'regex'])}"\nversion = "${version(r)}"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "${r.string(HEX, 64)}"\n`,
  'json log with ids': (r) =>
    Array.from(
      { length: 5 },
      () =>
        `{"level":"info","time":"2026-11-21T09:${r.int(60)}:07.331Z","requestId":"${uuid(r)}","traceId":"${r.string(HEX, 32)}","spanId":"${r.string(HEX, 16)}","sessionId":"${uuid(r)}","msg":"request completed","durationMs":${r.int(900)}}`,
    ).join('\n'),
  'base64 blob': (r) => `{"name":"thumbnail.png","data":"${b64(r, 300 + r.int(600))}"}`,
  'data url': (r) => `<img alt="chart" src="data:image/png;base64,${b64(r, 600)}" />`,
  'base64 output': (r) => `$ base64 -w 76 fixture.bin\n${wrap(b64(r, 400), 76)}`,
  'base64url ids': (r) => Array.from({ length: 6 }, () => `${r.string(BASE62 + '_-', 21)}  ${r.string(BASE62 + '_-', 43)}`).join('\n'),
  certificate: (r) => `-----BEGIN CERTIFICATE-----\n${wrap('MIID' + b64(r, 700), 64)}\n-----END CERTIFICATE-----`,
  'public key': (r) =>
    `-----BEGIN PUBLIC KEY-----\n${wrap('MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' + b64(r, 230), 64)}\n-----END PUBLIC KEY-----`,
  'ssh public keys': (r) =>
    `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${b64(r, 32)} deploy@ci\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ${b64(r, 380)} build-agent\necdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBB${b64(r, 64)}`,
  known_hosts: (r) => `|1|${b64(r, 20)}|${b64(r, 20)} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${b64(r, 32)}`,
  'single-segment base64 json': (r) =>
    `FEATURE_FLAGS=${Buffer.from(JSON.stringify({ features: ['a', 'b'], seed: r.int(1e6) })).toString('base64url')}\nkubectl get cm app -o jsonpath='{.data.config}' | base64 -d`,
  'uuids and ulids': (r) =>
    Array.from({ length: 8 }, () => `${uuid(r)}  01J${r.string('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 23)}`).join('\n'),
  'source map': (r) =>
    `{"version":3,"file":"index.js","sourceRoot":"","sources":["../src/index.ts"],"names":[],"mappings":"${Array.from({ length: 80 }, () => r.string('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 4 + r.int(6))).join(';')}"}`,
  'hex dump': (r) =>
    Array.from(
      { length: 8 },
      (_, i) =>
        `${(i * 16).toString(16).padStart(8, '0')}: ${Array.from({ length: 8 }, () => r.string(HEX, 4)).join(' ')}  ${r.string(LOWER + DIGITS, 16)}`,
    ).join('\n'),
  'random identifiers': (r) =>
    Array.from(
      { length: 10 },
      () =>
        `const ${r.pick(['handle', 'compute', 'parse', 'render'])}${r.string(BASE64.slice(0, 26), 1)}${r.string(LOWER, 6)} = useMemo(() => ${r.string(LOWER, 5)}(${r.int(100)}), []);`,
    ).join('\n'),
  'code that names secrets': (r) => Array.from({ length: 8 }, () => r.pick(CODE_THAT_NAMES_SECRETS)).join('\n'),
};

export function generatedNegatives(perGenerator = 40, seed = 4242): NegativeSample[] {
  const r = new Random(seed);
  const out: NegativeSample[] = [];
  for (const [source, generate] of Object.entries(GENERATORS))
    for (let i = 0; i < perGenerator; i++) out.push({ source, text: generate(r) });
  // Each line of the code that names secrets alone, too: every one must pass on its own.
  for (const line of CODE_THAT_NAMES_SECRETS) out.push({ source: 'code that names secrets', text: line });
  return out;
}
