/**
 * Local git context of a hook payload's working directory: remote URL (credentials removed),
 * branch, HEAD commit and the diff against HEAD (files, insertions, deletions). Three git
 * processes run at once, each killed at the deadline; what did not answer in time is left out.
 * GIT_OPTIONAL_LOCKS=0: the agent's own git commands must never meet a lock of ours.
 */
import { execFile } from 'node:child_process';

/** Sent as `agentotel_git` in the hook payload; the hooks receiver maps it to vcs.* attributes. */
export interface GitContext {
  repository_url?: string;
  branch?: string;
  commit?: string;
  files_changed?: number;
  insertions?: number;
  deletions?: number;
}

function git(cwd: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd,
        timeout: Math.max(1, timeoutMs),
        killSignal: 'SIGKILL',
        signal,
        windowsHide: true,
        env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      },
      (err, stdout) => resolve(err ? undefined : stdout),
    );
  });
}

/** A remote URL without user name and password (an https URL may carry a token as either). */
export function withoutCredentials(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url; // scp-like git@host:org/repo
  try {
    const u = new URL(url);
    if (u.protocol !== 'ssh:' && u.protocol !== 'git+ssh:') u.username = ''; // ssh's user (git@) is no secret
    u.password = '';
    return u.href;
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** `git config --get-regexp` lines of remote URLs: origin's, else the first. */
function remoteUrl(configLines: string | undefined): string | undefined {
  const remotes = (configLines ?? '')
    .split('\n')
    .map((l) => /^remote\.(.+)\.url (.+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null);
  const chosen = remotes.find((m) => m[1] === 'origin') ?? remotes[0];
  return chosen && withoutCredentials(chosen[2]!);
}

/** " 2 files changed, 3 insertions(+), 1 deletion(-)" (empty when clean). */
function diffStats(shortstat: string): Pick<GitContext, 'files_changed' | 'insertions' | 'deletions'> {
  const n = (re: RegExp) => Number(re.exec(shortstat)?.[1] ?? 0);
  return { files_changed: n(/(\d+) files? changed/), insertions: n(/(\d+) insertions?\(\+\)/), deletions: n(/(\d+) deletions?\(-\)/) };
}

/** The context of `cwd`, or undefined outside a git work tree (or when git did not answer in time or `signal` aborted). */
export async function gitContext(cwd: string, timeoutMs: number, signal?: AbortSignal): Promise<GitContext | undefined> {
  const [revs, remotes, shortstat] = await Promise.all([
    git(cwd, ['rev-parse', 'HEAD', '--abbrev-ref', 'HEAD'], timeoutMs, signal),
    git(cwd, ['config', '--get-regexp', '^remote\\..*\\.url$'], timeoutMs, signal),
    git(cwd, ['diff', '--shortstat', 'HEAD'], timeoutMs, signal),
  ]);
  if (revs === undefined) return undefined;
  const [commit, branch] = revs.trim().split('\n');
  const context: GitContext = { repository_url: remoteUrl(remotes), commit, branch: branch === 'HEAD' ? undefined : branch };
  if (shortstat !== undefined) Object.assign(context, diffStats(shortstat));
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined)) as GitContext;
}
