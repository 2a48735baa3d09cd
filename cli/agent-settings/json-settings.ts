/**
 * A JSON settings file wired by agentotel: the edits are applied to the user's document and
 * recorded in `<file>.agentotel.json` beside it, so a second `init` first undoes the first one
 * (running twice changes nothing) and `--uninstall` removes exactly what was added.
 */
import type { AgentName } from '../../core/agent/session-spans.ts';
import { CliError } from './agents.ts';
import { readText, type FileChange } from './files.ts';
import {
  applyEdits,
  EditError,
  isObject,
  missingEdits,
  parseEditRecord,
  revertEdits,
  type EditRecord,
  type JsonEdits,
  type JsonObject,
} from './json-edits.ts';
import { recordedWiring, type RecordedWiring, type Wiring } from './wiring.ts';

export interface InstallRecord {
  agent: AgentName;
  /** The settings file did not exist before: uninstall deletes it again when nothing else is left. */
  fileCreated: boolean;
  wiring: RecordedWiring;
  edits: EditRecord;
}

export const recordFile = (file: string): string => `${file}.agentotel.json`;

export function parseSettings(file: string, text: string | null): JsonObject {
  if (text === null || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON (${(err as Error).message}); fix or move it and run again (nothing was written)`);
  }
  if (!isObject(value)) throw new CliError(`${file} must hold a JSON object; fix or move it and run again (nothing was written)`);
  return value;
}

/** The document as JSON, indented like the text it was read from (2 spaces for a new file). */
function serialize(doc: JsonObject, previousText: string | null): string {
  const indent = /^([ \t]+)"/m.exec(previousText ?? '')?.[1] ?? 2;
  return JSON.stringify(doc, null, indent) + '\n';
}

/** The install record of `file` from its text (null: none). */
function parseRecord(file: string, text: string | null): InstallRecord | undefined {
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!isObject(value) || typeof value.agent !== 'string' || typeof value.fileCreated !== 'boolean' || !isObject(value.wiring)) {
      throw new EditError('agent, fileCreated and wiring are required');
    }
    return { ...(value as unknown as InstallRecord), edits: parseEditRecord(value.edits) };
  } catch (err) {
    throw new CliError(`${recordFile(file)} is not an agentotel install record (${(err as Error).message}); remove it and run again`);
  }
}

/** The changes to `file` and its record that apply `edits` (or only undo the recorded ones when `edits` is null). */
export async function planJsonSettings(
  file: string,
  agent: AgentName,
  install: { edits: (doc: JsonObject) => JsonEdits; wiring: Wiring } | null,
): Promise<FileChange[]> {
  const before = await readText(file);
  const doc = parseSettings(file, before);
  const recordChange = { file: recordFile(file), before: await readText(recordFile(file)), backup: false };
  const record = parseRecord(file, recordChange.before);
  if (!install) {
    if (!record) return [];
    revertEdits(doc, record.edits);
    const after = record.fileCreated && Object.keys(doc).length === 0 ? null : serialize(doc, before);
    return [
      { file, before, after, backup: true },
      { ...recordChange, after: null },
    ];
  }
  if (record) revertEdits(doc, record.edits);
  let edits: EditRecord;
  try {
    edits = applyEdits(doc, install.edits(doc));
  } catch (err) {
    if (err instanceof EditError) throw new CliError(`${file}: ${err.message}; fix it and run again (nothing was written)`);
    throw err;
  }
  const next: InstallRecord = { agent, fileCreated: record?.fileCreated ?? before === null, wiring: recordedWiring(install.wiring), edits };
  return [
    { file, before, after: serialize(doc, before), backup: true },
    { ...recordChange, after: JSON.stringify(next, null, 2) + '\n' },
  ];
}

export interface JsonInspection {
  doc: JsonObject;
  record?: InstallRecord;
  /** What of the recorded wiring is missing or changed; one line when nothing was installed. */
  problems: string[];
  /** Hook events whose agentotel hook is in place. */
  wiredHookEvents: number;
}

export async function inspectJsonSettings(file: string, agent: AgentName): Promise<JsonInspection> {
  const doc = parseSettings(file, await readText(file));
  const record = parseRecord(file, await readText(recordFile(file)));
  if (!record) return { doc, problems: [`${file} is not wired: run agentotel init --agent ${agent}`], wiredHookEvents: 0 };
  const missing = missingEdits(doc, record.edits);
  const problems = [
    ...(missing.events.length > 0 ? [`${file}: agentotel's hook is missing for ${missing.events.join(', ')}`] : []),
    ...missing.values.map((v) => `${file}: ${v} since agentotel init`),
  ];
  return { doc, record, problems, wiredHookEvents: record.edits.hooks.length - missing.events.length };
}
