import { describe, expect, it } from 'vitest';
import { LearnedSecrets, SecretScanner, type KindCounts } from './scanner.ts';

const scanner = new SecretScanner({ patterns: [], allow: [], disabledDetectors: [] });
function redact(text: string, s = scanner): { text: string; counts: KindCounts; learned: Map<string, string> } {
  const counts: KindCounts = new Map();
  const learned = new Map<string, string>();
  return { text: s.redact(text, counts, learned), counts, learned };
}

describe('secret detectors', () => {
  it.each([
    ['key AKIAIOSFODNN7EXAMPLE here', 'key [REDACTED:aws_access_key] here', 'aws_access_key'],
    ['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_key]', 'aws_secret_key'],
    [
      'aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
      'aws_secret_access_key: "[REDACTED:aws_secret_key]"',
      'aws_secret_key',
    ],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', '[REDACTED:github_token]', 'github_token'],
    ['gho_abcdefghijklmnopqrstuvwxyz0123456789', '[REDACTED:github_token]', 'github_token'],
    ['ghs_abcdefghijklmnopqrstuvwxyz0123456789', '[REDACTED:github_token]', 'github_token'],
    ['github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', '[REDACTED:github_token]', 'github_token'],
    ['glpat-abcdefghij0123456789', '[REDACTED:gitlab_token]', 'gitlab_token'],
    ['xoxb-123456789012-abcdefghij', '[REDACTED:slack_token]', 'slack_token'],
    ['xoxp-123456789012-abcdefghij', '[REDACTED:slack_token]', 'slack_token'],
    ['sk_live_abcdefghij0123456789', '[REDACTED:stripe_key]', 'stripe_key'],
    ['rk_live_abcdefghij0123456789', '[REDACTED:stripe_key]', 'stripe_key'],
    ['sk-ant-api03-abcdefghijklmnop_QRST-uv', '[REDACTED:anthropic_key]', 'anthropic_key'],
    ['sk-abcdefghijklmnopqrstuvwxyz012345', '[REDACTED:openai_key]', 'openai_key'],
    ['sk-proj-abcdefghijklmnopqrstuvwxyz012345', '[REDACTED:openai_key]', 'openai_key'],
    ['AIzaSyA-abcdefghijklmnopqrstuvwxyz01234', '[REDACTED:google_api_key]', 'google_api_key'],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk', '[REDACTED:jwt]', 'jwt'],
    ['a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\nb', 'a\n[REDACTED:private_key]\nb', 'private_key'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXk\\n-----END OPENSSH PRIVATE KEY-----', '[REDACTED:private_key]', 'private_key'],
    ['truncated: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB', 'truncated: [REDACTED:private_key]', 'private_key'],
    ['postgres://billing:Sup3rS3cret@db:5432/x', 'postgres://billing:[REDACTED:url_credentials]@db:5432/x', 'url_credentials'],
    ['https://u:p4ss@example.com', 'https://u:[REDACTED:url_credentials]@example.com', 'url_credentials'],
    ['password=hunter22', 'password=[REDACTED:password]', 'password'],
    ['{"db_password": "hunter22"}', '{"db_password": "[REDACTED:password]"}', 'password'],
    ['{\\"password\\":\\"hunter22\\"}', '{\\"password\\":\\"[REDACTED:password]\\"}', 'password'],
    ['client_secret: abc123def', 'client_secret: [REDACTED:secret]', 'secret'],
    ['?token=abc123&x=1', '?token=[REDACTED:secret]&x=1', 'secret'],
    ['GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'GITHUB_TOKEN=[REDACTED:github_token]', 'github_token'],
    ['The database password `Sup3rS3cret` in', 'The database password `[REDACTED:password]` in', 'password'],
    ["my password is 'hunter22'", "my password is '[REDACTED:password]'", 'password'],
    ['Authorization: Bearer abcdefghijklmnop.qrstuvwx', 'Authorization: Bearer [REDACTED:bearer_token]', 'bearer_token'],
    ['mail jane.doe@example.com now', 'mail [REDACTED:email] now', 'email'],
    ['cd /home/jane/projects/x', 'cd ~/projects/x', 'home_path'],
    ['"cwd":"/Users/jane"', '"cwd":"~"', 'home_path'],
    ['C:\\Users\\jane\\src', '~\\src', 'home_path'],
    ['"C:\\\\Users\\\\jane\\\\src"', '"~\\\\src"', 'home_path'],
    ['projects/-home-jane-work-app/x.jsonl', 'projects/~-work-app/x.jsonl', 'home_path'],
    ['cd /mnt/c/Users/jane/src', 'cd ~/src', 'home_path'],
    ['"C:/Users/jane/AppData"', '"~/AppData"', 'home_path'],
    // An escaped line break puts a letter before a token: it still starts there.
    ['"AWS_KEYS:\\nAKIAIOSFODNN7EXAMPLE\\n"', '"AWS_KEYS:\\n[REDACTED:aws_access_key]\\n"', 'aws_access_key'],
    ['glrt-t3_abcdefghijklmnopqrstu', '[REDACTED:gitlab_token]', 'gitlab_token'],
    ['xapp-1-A0123456789-1234567890123-abcdef0123456789', '[REDACTED:slack_token]', 'slack_token'],
    [
      'url: https://hooks.slack.com/services/T0123ABCD/B0123456789/abcdefghijklmnopqrstuvwx',
      'url: https://[REDACTED:slack_webhook]',
      'slack_webhook',
    ],
    ['whsec_abcdefghijklmnopqrstuvwxyz012345', '[REDACTED:stripe_key]', 'stripe_key'],
    ['sk-svcacct-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789', '[REDACTED:openai_key]', 'openai_key'],
    ['"client_secret":"GOCSPX-abcdefghijklmnopqrstuvwxyz01"', '"client_secret":"[REDACTED:google_oauth]"', 'google_oauth'],
    ['token ya29.a0AfH6SMBx1234567890abcdefghijklmnopqrstuv', 'token [REDACTED:google_oauth]', 'google_oauth'],
    [
      'AZURE_CLIENT_SECRET=abc8Q~abcdefghijklmnopqrstuvwxyz0123456',
      'AZURE_CLIENT_SECRET=[REDACTED:azure_client_secret]',
      'azure_client_secret',
    ],
    ['npm_abcdefghijklmnopqrstuvwxyz0123456789', '[REDACTED:npm_token]', 'npm_token'],
    ['hf_abcdefghijklmnopqrstuvwxyzABCDEFGH12', '[REDACTED:huggingface_token]', 'huggingface_token'],
    [
      'AccountName=acme;AccountKey=' + 'a'.repeat(86) + '==;EndpointSuffix=core.windows.net',
      'AccountName=acme;AccountKey=[REDACTED:azure_storage_key];EndpointSuffix=core.windows.net',
      'azure_storage_key',
    ],
    ['?sv=2023-11-03&sp=r&sig=abcdEFGH1234%2Babcd%3D', '?sv=2023-11-03&sp=r&sig=[REDACTED:azure_sas_token]', 'azure_sas_token'],
    [
      'AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      '[REDACTED:aws_access_key],[REDACTED:aws_secret_key]',
      'aws_secret_key',
    ],
    [
      '"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n"',
      '"private_key": "[REDACTED:private_key]\\n"',
      'private_key',
    ],
    [
      '+-----BEGIN RSA PRIVATE KEY-----\n+MIIEowIBAAKCAQEA0123456789abcdef\n+-----END RSA PRIVATE KEY-----',
      '+[REDACTED:private_key]',
      'private_key',
    ],
    [
      '     1\t-----BEGIN EC PRIVATE KEY-----\n     2\tMHcCAQEEIBabcdefghijklmnop\n     3\t-----END EC PRIVATE KEY-----',
      '     1\t[REDACTED:private_key]',
      'private_key',
    ],
    ['redis://:s3cr3tpw@cache:6379/0', 'redis://:[REDACTED:url_credentials]@cache:6379/0', 'url_credentials'],
    ['curl -u admin:hunter22 https://ci', 'curl -u admin:[REDACTED:basic_auth] https://ci', 'basic_auth'],
    ['Authorization: Basic YWRtaW46aHVudGVyMjI=', 'Authorization: Basic [REDACTED:basic_auth]', 'basic_auth'],
    ['mysql -u root -pS3cret! billing', 'mysql -u root -p[REDACTED:password] billing', 'password'],
    ['node worker.js --db-password hunter22 --queue x', 'node worker.js --db-password [REDACTED:password] --queue x', 'password'],
    ['<password>hunter22</password>', '<password>[REDACTED:password]</password>', 'password'],
    ["'password' => 'hunter22',", "'password' => '[REDACTED:password]',", 'password'],
    ['Driver={ODBC};Uid=sa;Pwd=hunter22;', 'Driver={ODBC};Uid=sa;Pwd=[REDACTED:password];', 'password'],
    ['machine api.heroku.com login jane password hunter22', 'machine api.heroku.com login jane password [REDACTED:password]', 'password'],
    [
      'AWS Secret Access Key [None]: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'AWS Secret Access Key [None]: [REDACTED:aws_secret_key]',
      'aws_secret_key',
    ],
    ['"x-api-key": "k3y-0123456789"', '"x-api-key": "[REDACTED:secret]"', 'secret'],
  ])('%s', (input, expected, kind) => {
    const { text, counts } = redact(input);
    expect(text).toBe(expected);
    expect([...counts.keys()]).toEqual([kind]);
  });

  it.each([
    'max_tokens=1024 "input_tokens": 3, "cache_read_tokens": 14420',
    'commit 3f786850e387550fdab836ed7e6dc881de23001b', // 40 hex: a git sha, not an AWS secret
    'session 99373b96-31d7-4208-8429-1809343e8cb1',
    'store it in a secret manager; the token is valid',
    'password: null, token: true',
    'password=${env:DB_PASSWORD}',
    'ask for a key, then a task-force-of-twenty-engineers-and-more',
    '/mnt/home/jane is not a home directory',
    "grep -rnE 'AKIA|ghp_|sk-ant-|BEGIN RSA' .",
    'const cacheKey = `${prefix}:${id}`; token = getToken(); password: string;',
    'apiKey: process.env.OPENAI_API_KEY, secret: config.session.secret',
    'PWD=/srv/app OLDPWD=/tmp',
    'password: ${{ secrets.DB_PASSWORD }} token: $GITHUB_TOKEN pwd: %DB_PWD%',
    'STRIPE_SECRET_KEY=your-key-here OPENAI_API_KEY=<your key> password: changeme',
    '"next_page_token": "CAUQAA", "max_tokens": 1024',
    '.sk-fading-circle .sk-circle-bounce-delay { }',
    'git@github.com:acme/api.git ssh://git@github.com/acme https://user@bitbucket.org/x logo@2x.png lodash@4.17.21',
    'The bearer authentication scheme; Basic understanding; Bearer <token>',
    '"-----BEGIN RSA PRIVATE KEY-----\\n" + body + "\\n-----END RSA PRIVATE KEY-----"',
    '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----',
    'sha512-' + 'A'.repeat(86) + '== 3f786850e387550fdab836ed7e6dc881de23001b',
    'eyJmZWF0dXJlcyI6WyJhIl19 (a base64 JSON config, one segment)',
    'new URL("http://abc:xyz@example.com")',
  ])('keeps %s', (input) => {
    const { text, counts } = redact(input);
    expect(text).toBe(input);
    expect(counts.size).toBe(0);
  });

  // No catastrophic backtracking: each of these costs about a second at worst on a busy machine (a few ms to 300 ms when idle).
  it.each([
    ['PEM headers without a body', '-----BEGIN RSA PRIVATE KEY-----\n' + 'Proc-Type: 4 ENCRYPTED   \n'.repeat(20_000)],
    ['PEM markers without an end', ('-----BEGIN RSA PRIVATE KEY-----\nMIIE' + 'A'.repeat(60) + '\n').repeat(3_000)],
    ['dots before an @', 'a.'.repeat(200_000) + '@'],
    ['a domain of dots', 'x@' + 'a.'.repeat(200_000)],
    ['mysql without -p', 'mysql '.repeat(100_000)],
    ['keywords without values', 'password: '.repeat(100_000)],
    ['keywords before spaces', ('token' + ' '.repeat(50)).repeat(10_000)],
    ['a long URL user', '://' + 'a'.repeat(200_000) + ':'],
    ['base64', 'QUJD'.repeat(250_000)],
    ['an identifier', 'a_'.repeat(200_000) + 'key=x'],
  ])('scans %s in linear time', (_name, text) => {
    const started = performance.now();
    redact(text);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('does not redact its own output again', () => {
    const once = redact('password=hunter22 postgres://u:pw123456@h jane@example.com /home/jane/x').text;
    const twice = redact(once);
    expect(twice.text).toBe(once);
    expect(twice.counts.size).toBe(0);
  });

  it('remembers values known only from their context, never format-only tokens it can find again', () => {
    const { learned } = redact('DATABASE_URL=postgres://u:Sup3rS3cret@h/db password=hunter22 key AKIAIOSFODNN7EXAMPLE');
    expect(learned).toEqual(
      new Map([
        ['Sup3rS3cret', 'url_credentials'],
        ['hunter22', 'password'],
      ]),
    );
    const counts: KindCounts = new Map();
    expect(new LearnedSecrets(learned).redact('it was Sup3rS3cret. or hunter22', counts)).toBe(
      'it was [REDACTED:url_credentials]. or [REDACTED:password]',
    );
    expect(counts).toEqual(
      new Map([
        ['url_credentials', 1],
        ['password', 1],
      ]),
    );
  });

  it('replaces only the group named secret of an extra pattern', () => {
    const custom = new SecretScanner({
      patterns: [{ name: 'employee_id', regex: 'employee_id=(?<secret>E[0-9]{6})' }],
      allow: [],
      disabledDetectors: [],
    });
    expect(redact('employee_id=E123456 ok', custom).text).toBe('employee_id=[REDACTED:employee_id] ok');
  });

  it('applies extra patterns, the allow-list and disabled detectors', () => {
    const custom = new SecretScanner({
      patterns: [{ name: 'ticket', regex: 'SEC-[0-9]{4,}' }],
      allow: ['^noreply@example\\.org$'],
      disabledDetectors: ['home_path'],
    });
    const { text, counts } = redact('SEC-12345 from noreply@example.org and jane@example.org in /home/jane', custom);
    expect(text).toBe('[REDACTED:ticket] from noreply@example.org and [REDACTED:email] in /home/jane');
    expect(counts).toEqual(
      new Map([
        ['ticket', 1],
        ['email', 1],
      ]),
    );
  });
});
