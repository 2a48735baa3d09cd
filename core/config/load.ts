/**
 * Loading the collector config: one YAML file in the OTel Collector's shape, with
 * ${env:VAR} and ${env:VAR:-default} substituted in values ($$ escapes a dollar).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from './fields.ts';

const ENV_REF = /\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function substituteEnv(value: unknown, path: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const v = env[name!];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      throw new ConfigError(path, `environment variable ${name} is not set (use \${env:${name}:-default} for a default)`);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, `${path}[${i}]`, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, path ? `${path}.${k}` : k, env)]),
    );
  }
  return value;
}

/** Parses YAML text and substitutes the environment; structure is validated by the caller. */
export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError('', `${source} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError('', `${source} must hold a mapping at the top level`);
  return substituteEnv(doc, '', env) as Record<string, unknown>;
}

export function readConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('', `cannot read config file ${file}: ${(err as Error).message}`);
  }
  return parseConfigText(text, file, env);
}
