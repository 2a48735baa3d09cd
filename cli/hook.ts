/**
 * `agentotel hook`: the command-hook mode. Reads the hook payload on stdin, adds the git context
 * of its cwd (`agentotel_git`) and the time the hook ran (`agentotel_time_unix_nano`: a spooled
 * payload arrives late), and POSTs it to the hooks receiver — after whatever an earlier hook
 * spooled. A payload the collector does not take in time goes to the disk spool.
 *
 * The agent waits for this process, so it must never slow or break it: all its work stops
 * 150 ms after it starts (200 ms at the very latest), and it always answers `{}` with exit 0,
 * whatever happens. It loads only node built-ins: bin/agentotel.js runs it without the rest
 * of the CLI.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { hooksPath, parseAgent } from './agent-settings/agents.ts';
import { gitContext } from './hook/git-context.ts';
import { createPoster, type Poster } from './hook/post.ts';
import { defaultSpoolFile, HookSpool } from './hook/spool.ts';

/** Past this the payload is spooled as it is and the agent answered, work done or not. */
export const HARD_DEADLINE_MS = 200;

/** The hard deadline ($AGENTOTEL_HOOK_DEADLINE_MS may raise it, e.g. for a distant collector) and the budgets within it. */
function deadlines(): { hardMs: number; workMs: number; gitMs: number } {
  const asked = Number(process.env.AGENTOTEL_HOOK_DEADLINE_MS);
  const hardMs = Number.isFinite(asked) && asked > 0 ? asked : HARD_DEADLINE_MS;
  // Stdin, git and delivery share the work budget; git gets part of it, so that delivery keeps some.
  return { hardMs, workMs: hardMs * 0.75, gitMs: hardMs * 0.4 };
}

const DEFAULT_HOOKS_BASE = 'http://127.0.0.1:4319';

export const HOOK_USAGE = `usage: agentotel hook [--agent claude-code|codex|gemini-cli] [--url <hooks endpoint>] [--token-file <file>]

The command-hook mode (agentotel init --hooks command installs it): reads a hook payload on
stdin, adds local git context, POSTs it to the hooks receiver (default ${DEFAULT_HOOKS_BASE}/v1/hooks[/agent])
with the token of $AGENTOTEL_INGEST_TOKEN or --token-file, spools it to ~/.agentotel/spool/
while the collector is unreachable, and always answers {} (exit 0) within ${HARD_DEADLINE_MS} ms
($AGENTOTEL_HOOK_DEADLINE_MS sets another deadline, e.g. for a distant collector).`;

interface HookOptions {
  agent: string;
  url: URL;
  token?: string;
}

function hookOptions(argv: string[]): HookOptions {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: { agent: { type: 'string' }, url: { type: 'string' }, 'token-file': { type: 'string' } },
  });
  const agent = parseAgent(typeof values.agent === 'string' ? values.agent : undefined);
  const url = new URL(typeof values.url === 'string' ? values.url : DEFAULT_HOOKS_BASE + hooksPath(agent));
  const tokenFile = values['token-file'];
  return { agent, url, token: process.env.AGENTOTEL_INGEST_TOKEN || (typeof tokenFile === 'string' ? readToken(tokenFile) : undefined) };
}

/** The token in `file`; undefined when unreadable (the collector then answers 401 and the payload is spooled). */
function readToken(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    process.stderr.write(`agentotel hook: cannot read the token file ${file}\n`);
    return undefined;
  }
}

function readAll(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', () => resolve(undefined));
    signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

/** Sends lines in order until one is not taken; returns the lines left (that one and those after it). */
async function sendInOrder(poster: Poster, lines: string[], signal: AbortSignal, note: (msg: string) => void): Promise<string[]> {
  for (let i = 0; i < lines.length; i++) {
    const { delivery, status } = await poster.post(lines[i]!, signal);
    if (delivery === 'retry') return lines.slice(i);
    if (delivery === 'rejected') note(`the collector refused a payload for good (HTTP ${status}); dropped`);
  }
  return [];
}

/** The payload with git context and time, as one JSON line; undefined when stdin held no JSON object. */
async function payloadLine(stdin: string | undefined, startedMs: number, gitMs: number, signal: AbortSignal): Promise<string | undefined> {
  let payload: unknown;
  try {
    payload = JSON.parse(stdin ?? '');
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const fields = payload as Record<string, unknown>;
  const git = typeof fields.cwd === 'string' && !signal.aborted ? await gitContext(fields.cwd, gitMs, signal) : undefined;
  const resourceAttributes = process.env.AGENTOTEL_RESOURCE_ATTRIBUTES || process.env.OTEL_RESOURCE_ATTRIBUTES;
  return JSON.stringify({
    ...fields,
    ...(git && { agentotel_git: git }),
    ...(resourceAttributes && { agentotel_resource_attributes: resourceAttributes }),
    agentotel_time_unix_nano: `${startedMs}000000`,
  });
}

export async function runHook(argv: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<never> {
  const startedMs = Date.now();
  const { hardMs, workMs, gitMs } = deadlines();
  const work = new AbortController();
  const budget = setTimeout(() => work.abort(), workMs);
  const note = (msg: string) => process.stderr.write(`agentotel hook: ${msg}\n`);
  let pending: { spool: HookSpool; line: string } | undefined; // the payload, until it is sent or spooled
  const spoolPending = (why: string) => {
    try {
      if (pending)
        note(
          pending.spool.append([pending.line]) ? `${why}; payload spooled to ${pending.spool.file}` : `${why}; spool full, payload dropped`,
        );
    } catch (err) {
      note(`${why}; cannot spool the payload: ${(err as Error).message}`);
    }
    pending = undefined;
  };
  const answer = (): never => {
    work.abort(); // kills git processes still running
    process.stdout.write('{}\n');
    process.exit(0);
  };
  setTimeout(() => {
    spoolPending('out of time');
    answer();
  }, hardMs);

  try {
    const options = hookOptions(argv);
    const spool = new HookSpool(defaultSpoolFile(options.agent));
    const poster = await createPoster(options.url, options.token);
    const taken = spool.take();
    const replay = sendInOrder(poster, taken.lines, work.signal, note).then((unsent) => {
      taken.settle(unsent);
      return unsent.length === 0;
    });
    const line = await payloadLine(await readAll(stdin, work.signal), startedMs, gitMs, work.signal);
    if (line === undefined) note('stdin held no JSON object; nothing sent');
    else pending = { spool, line };
    const collectorUp = await replay;
    if (pending && collectorUp && (await sendInOrder(poster, [pending.line], work.signal, note)).length === 0) pending = undefined;
    spoolPending('collector unreachable or slow');
  } catch (err) {
    note((err as Error).message);
    spoolPending('failed');
  } finally {
    clearTimeout(budget);
  }
  return answer();
}
