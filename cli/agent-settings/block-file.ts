/**
 * Agents wired in two files (Codex, Gemini CLI): hooks in a JSON settings file (json-settings.ts)
 * and the exporters with the bearer token in agentotel's marked block of a line-based file
 * (marked-block.ts).
 */
import type { AgentName } from '../../core/agent/session-spans.ts';
import type { FileChange } from './files.ts';
import type { JsonInspection } from './json-settings.ts';
import { removeBlock, upsertBlock } from './marked-block.ts';
import type { Inspection } from './wiring.ts';

/** The change to `file` that writes agentotel's block with `lines`, or removes it when `lines` is null. */
export function planBlock(file: string, before: string | null, agent: AgentName, lines: string[] | null): FileChange {
  const title = `written by \`agentotel init --agent ${agent}\`; \`agentotel init --agent ${agent} --uninstall\` removes it`;
  return { file, before, after: lines ? upsertBlock(before, title, lines) : removeBlock(before), backup: true };
}

/** What the two files tell: wired when the block is there and the hooks' settings have no `problems`. */
export function hooksAndBlockInspection(
  files: string[],
  hooks: JsonInspection,
  block: string[] | undefined,
  problems: string[],
): Inspection {
  return {
    files,
    wired: !!block && !!hooks.record && problems.length === 0,
    problems,
    wiring: hooks.record?.wiring,
    token: block?.map((l) => /Bearer ([^"]+)"/.exec(l)?.[1]).find(Boolean),
    wiredHookEvents: hooks.wiredHookEvents,
  };
}
