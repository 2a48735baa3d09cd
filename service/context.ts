import path from 'node:path';
import type { ComponentContext } from '../core/component.ts';
import type { MetricsRegistry } from '../core/metrics.ts';
import type { ServiceConfig } from './config.ts';

/** The context every component gets: its id, its own data directory, the config's directory. */
export function componentContext(config: ServiceConfig, id: string, metrics: MetricsRegistry): ComponentContext {
  return { id, dataDir: path.join(config.dataDir, id.replace(/\//g, '-')), configDir: config.configDir, metrics };
}
