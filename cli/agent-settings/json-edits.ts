/**
 * Edits of a JSON settings document that can be undone exactly: values set at key paths (what
 * they replaced is kept) and hook groups appended to `hooks.<Event>` arrays, the shape Claude
 * Code, Codex and Gemini CLI share. The record of the edits is all an uninstall needs; nothing
 * else of the document is touched, and a value the user changed since is left alone.
 */
import { createHash } from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export interface JsonEdits {
  /** Values to set, each at a key path such as ['env', 'OTEL_LOGS_EXPORTER']. */
  values: { path: string[]; value: Json }[];
  /** Groups appended to hooks[event]. */
  hooks: { event: string; group: JsonObject }[];
}

export interface EditRecord {
  /** Containers (by key path) that did not exist before, in the order they were made. */
  created: string[][];
  /** What each set value replaced (`previous` absent: the key did not exist) and a digest of the value set. */
  values: { path: string[]; previous?: Json; digest: string }[];
  hooks: { event: string; group: JsonObject }[];
}

/** A document whose shape does not allow the edit (e.g. "env" is a string). */
export class EditError extends Error {
  override name = 'EditError';
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted: equal for equal values whatever the key order. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const digest = (value: Json) => createHash('sha256').update(canonical(value)).digest('hex');
const sameJson = (a: Json, b: Json) => canonical(a) === canonical(b);
const clone = <T extends Json>(value: T): T => structuredClone(value);

function lookup(doc: JsonObject, path: string[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const key of path) cur = isObject(cur) ? cur[key] : undefined;
  return cur;
}

/** The container at `path`, made (and recorded in `created`) when missing. */
function ensure(doc: JsonObject, path: string[], leaf: 'object' | 'array', created: string[][]): JsonObject | Json[] {
  let cur: JsonObject = doc;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const kind = i === path.length - 1 ? leaf : 'object';
    if (cur[key] === undefined) {
      cur[key] = kind === 'array' ? [] : {};
      created.push(path.slice(0, i + 1));
    }
    const next = cur[key];
    if (kind === 'array') {
      if (!Array.isArray(next)) throw new EditError(`"${path.slice(0, i + 1).join('.')}" must be an array`);
      return next;
    }
    if (!isObject(next)) throw new EditError(`"${path.slice(0, i + 1).join('.')}" must be an object`);
    cur = next;
  }
  return cur;
}

/** Applies `edits` to `doc` in place; the record undoes them. A hook group already present is claimed, not added twice. */
export function applyEdits(doc: JsonObject, edits: JsonEdits): EditRecord {
  const record: EditRecord = { created: [], values: [], hooks: [] };
  for (const { path, value } of edits.values) {
    const parent = ensure(doc, path.slice(0, -1), 'object', record.created) as JsonObject;
    const key = path[path.length - 1]!;
    const previous = parent[key];
    record.values.push(
      previous === undefined ? { path, digest: digest(value) } : { path, previous: clone(previous), digest: digest(value) },
    );
    parent[key] = clone(value);
  }
  for (const { event, group } of edits.hooks) {
    const groups = ensure(doc, ['hooks', event], 'array', record.created) as Json[];
    if (!groups.some((g) => sameJson(g, group))) groups.push(clone(group));
    record.hooks.push({ event, group: clone(group) });
  }
  return record;
}

/** Undoes the recorded edits in place, leaving whatever the user changed or added since. */
export function revertEdits(doc: JsonObject, record: EditRecord): void {
  for (const { event, group } of record.hooks) {
    const groups = lookup(doc, ['hooks', event]);
    if (!Array.isArray(groups)) continue;
    const i = groups.findIndex((g) => sameJson(g, group));
    if (i >= 0) groups.splice(i, 1);
  }
  for (const { path, previous, digest: setDigest } of record.values) {
    const parent = lookup(doc, path.slice(0, -1));
    const key = path[path.length - 1]!;
    if (!isObject(parent) || parent[key] === undefined || digest(parent[key]) !== setDigest) continue;
    if (previous === undefined) delete parent[key];
    else parent[key] = clone(previous);
  }
  for (const path of [...record.created].reverse()) {
    const parent = lookup(doc, path.slice(0, -1));
    const key = path[path.length - 1]!;
    if (!isObject(parent)) continue;
    const value = parent[key];
    if ((Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0)) delete parent[key];
  }
}

/** The recorded edits that are no longer in `doc`: hook events whose group is gone, and values removed or changed by hand. */
export function missingEdits(doc: JsonObject, record: EditRecord): { events: string[]; values: string[] } {
  const events = record.hooks
    .filter(({ event, group }) => {
      const groups = lookup(doc, ['hooks', event]);
      return !Array.isArray(groups) || !groups.some((g) => sameJson(g, group));
    })
    .map((h) => h.event);
  const values: string[] = [];
  for (const { path, digest: setDigest } of record.values) {
    const value = lookup(doc, path);
    if (value === undefined) values.push(`${path.join('.')} was removed`);
    else if (digest(value) !== setDigest) values.push(`${path.join('.')} was changed`);
  }
  return { events, values };
}

/** Validates a record read back from disk. */
export function parseEditRecord(value: unknown): EditRecord {
  const isPath = (p: unknown): p is string[] => Array.isArray(p) && p.length > 0 && p.every((k) => typeof k === 'string');
  if (!isObject(value)) throw new EditError('edits must be an object');
  const { created, values, hooks } = value;
  if (!Array.isArray(created) || !created.every(isPath)) throw new EditError('edits.created must be a list of key paths');
  if (!Array.isArray(values) || !values.every((v) => isObject(v) && isPath(v.path) && typeof v.digest === 'string')) {
    throw new EditError('edits.values must be a list of {path, digest, previous?}');
  }
  if (!Array.isArray(hooks) || !hooks.every((h) => isObject(h) && typeof h.event === 'string' && isObject(h.group))) {
    throw new EditError('edits.hooks must be a list of {event, group}');
  }
  return value as unknown as EditRecord;
}
