/**
 * Plugins: a local module (path relative to the config file) or an npm package, listed
 * under `plugins:`, whose `factory` (or default) export is a component factory. See
 * docs/plugins.md.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/config/fields.ts';
import type { ComponentFactory } from '../core/component.ts';

function isFactory(value: unknown): value is ComponentFactory {
  const f = value as Partial<ComponentFactory> | null;
  return (
    !!f &&
    typeof f === 'object' &&
    (f.kind === 'receiver' || f.kind === 'processor' || f.kind === 'exporter') &&
    typeof f.type === 'string' &&
    typeof f.parseConfig === 'function' &&
    typeof f.create === 'function'
  );
}

export async function loadPlugins(specs: unknown, configDir: string): Promise<ComponentFactory[]> {
  if (specs === undefined || specs === null) return [];
  if (!Array.isArray(specs) || specs.some((s) => typeof s !== 'string')) {
    throw new ConfigError('plugins', 'must be a list of module paths or npm package names');
  }
  const factories: ComponentFactory[] = [];
  for (const [i, spec] of (specs as string[]).entries()) {
    const local = spec.startsWith('.') || path.isAbsolute(spec);
    const target = local ? pathToFileURL(path.resolve(configDir, spec)).href : spec;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(target)) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`plugins[${i}]`, `cannot load "${spec}": ${(err as Error).message}`);
    }
    const factory = mod.factory ?? mod.default;
    if (!isFactory(factory)) {
      throw new ConfigError(
        `plugins[${i}]`,
        `"${spec}" exports no component factory (export "factory" or a default with kind, type, parseConfig, create)`,
      );
    }
    factories.push(factory);
  }
  return factories;
}
