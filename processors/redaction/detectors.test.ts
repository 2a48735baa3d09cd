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
  ])('keeps %s', (input) => {
    const { text, counts } = redact(input);
    expect(text).toBe(input);
    expect(counts.size).toBe(0);
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
