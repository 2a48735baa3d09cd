/**
 * Config of the transcripts receiver:
 *
 *   receivers:
 *     transcripts:
 *       sources:
 *         - agent: claude-code              # root and include default per agent
 *         - agent: codex
 *           root: /srv/codex/sessions
 *       poll_interval: 1s
 *       start_at: beginning                 # or end: skip what files found at the first start already hold
 */
import type { AgentName } from '../../core/agent/session-spans.ts';
import { Fields } from '../../core/config/fields.ts';
import { expandHome } from './find-files.ts';
import { transcriptFormats } from './formats.ts';
import { compilePathPattern, PathPatternError } from './path-pattern.ts';

export const AGENTS = ['claude-code', 'codex', 'gemini-cli'] as const satisfies readonly AgentName[];

/** Where each agent writes its transcripts, and which files under that root are transcripts. */
export const AGENT_DEFAULTS: Record<AgentName, { root: string; include: string }> = {
  'claude-code': { root: '~/.claude/projects', include: '**/*.jsonl' },
  codex: { root: '~/.codex/sessions', include: '**/rollout-*.jsonl' },
  'gemini-cli': { root: '~/.gemini/tmp', include: '*/chats/session-*.jsonl' },
};

export interface TranscriptSource {
  agent: AgentName;
  /** `~` expanded; a relative root is resolved against the config file's directory. */
  root: string;
  include: string;
}

export interface TranscriptsReceiverConfig {
  sources: TranscriptSource[];
  pollIntervalMs: number;
  /** For files found at the receiver's first start: read them whole, or only what is appended later. */
  startAt: 'beginning' | 'end';
}

export const DEFAULT_POLL_INTERVAL_MS = 1_000;

/** The include pattern, validated; throws ConfigError naming `key`. */
export function checkInclude(fields: Fields, key: string, include: string): string {
  try {
    compilePathPattern(include);
  } catch (err) {
    if (err instanceof PathPatternError) fields.fail(key, `${err.message} (got ${JSON.stringify(include)})`);
    throw err;
  }
  return include;
}

function parseSource(fields: Fields): TranscriptSource {
  if (!fields.has('agent')) fields.fail('agent', `is required (one of ${AGENTS.join(', ')})`);
  const agent = fields.oneOf('agent', AGENTS, 'claude-code');
  if (!transcriptFormats[agent]) fields.fail('agent', `no transcript format for ${agent} in this build`);
  const root = fields.string('root', AGENT_DEFAULTS[agent].root).trim();
  if (root === '') fields.fail('root', 'must not be empty');
  const include = checkInclude(fields, 'include', fields.string('include', AGENT_DEFAULTS[agent].include));
  fields.done();
  return { agent, root: expandHome(root), include };
}

export function parseConfig(fields: Fields): TranscriptsReceiverConfig {
  const raw = fields.raw('sources');
  if (!Array.isArray(raw) || raw.length === 0) {
    fields.fail(
      'sources',
      `must list at least one source, e.g. [{ agent: claude-code }] (got ${raw === undefined ? 'nothing' : JSON.stringify(raw)})`,
    );
  }
  const sources = raw.map((s, i) => parseSource(new Fields(s, fields.at(`sources[${i}]`))));
  const pollIntervalMs = fields.duration('poll_interval', DEFAULT_POLL_INTERVAL_MS);
  if (pollIntervalMs < 10) fields.fail('poll_interval', `must be at least 10ms (got ${pollIntervalMs}ms)`);
  const startAt = fields.oneOf('start_at', ['beginning', 'end'] as const, 'beginning');
  fields.done();
  return { sources, pollIntervalMs, startAt };
}
