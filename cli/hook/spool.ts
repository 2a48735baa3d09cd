/**
 * The disk spool of `agentotel hook`: payloads the collector did not take, one JSON line each,
 * in ~/.agentotel/spool/<agent>.jsonl (0600: payloads may hold prompts). Hooks run concurrently
 * (parallel tool calls, several sessions), so a hook that replays takes the whole file by
 * renaming it — one taker — and appends back what it could not send; no hook ever rewrites a
 * file another one appends to. A claim left by a hook that died is taken over after a minute.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAX_SPOOL_BYTES = 64 * 1024 * 1024;
const STALE_CLAIM_MS = 60_000;

export function defaultSpoolFile(agent: string): string {
  return path.join(os.homedir(), '.agentotel', 'spool', `${agent}.jsonl`);
}

export interface TakenLines {
  lines: string[];
  /** Puts the lines not sent back into the spool (they were in it: no size check) and drops the claim. */
  settle(unsent: string[]): void;
}

export class HookSpool {
  constructor(
    readonly file: string,
    private readonly maxBytes = MAX_SPOOL_BYTES,
  ) {}

  /** Adds new lines; false when the spool is full (the lines are then lost, and the caller says so). */
  append(lines: string[]): boolean {
    const size = statSync(this.file, { throwIfNoEntry: false })?.size ?? 0;
    if (size + lines.reduce((n, l) => n + l.length + 1, 0) > this.maxBytes) return false;
    this.write(lines);
    return true;
  }

  private write(lines: string[]): void {
    if (lines.length === 0) return;
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    appendFileSync(this.file, lines.join('\n') + '\n', { mode: 0o600 });
  }

  /** Takes every spooled line: the spool file and claims of hooks that died replaying. */
  take(): TakenLines {
    const claim = `${this.file}.${process.pid}.${Date.now()}.replaying`;
    const claims: string[] = [];
    const grab = (from: string, to: string) => {
      try {
        renameSync(from, to);
        const now = new Date();
        utimesSync(to, now, now); // a fresh claim is not stale, however old its lines
        claims.push(to);
      } catch {
        // gone: nothing spooled, or another hook took it first
      }
    };
    grab(this.file, claim);
    const dir = path.dirname(this.file);
    const prefix = `${path.basename(this.file)}.`;
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.startsWith(prefix) && n.endsWith('.replaying'));
    } catch {
      // no spool directory yet
    }
    for (const name of names) {
      const stale = path.join(dir, name);
      const mtime = statSync(stale, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (!claims.includes(stale) && Date.now() - mtime > STALE_CLAIM_MS) grab(stale, `${claim}.${claims.length}`);
    }
    const lines = claims.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
    return {
      lines,
      settle: (unsent) => {
        this.write(unsent);
        for (const f of claims) unlinkSync(f);
      },
    };
  }
}
