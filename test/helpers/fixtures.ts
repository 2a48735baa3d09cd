/** Paths into ../shared/fixtures: real captures from the real agent CLIs. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixturesDir = path.resolve(fileURLToPath(new URL('../../../shared/fixtures', import.meta.url)));

export interface OtlpCapture {
  seq: number;
  file: string;
  protocol: string;
  signal: 'traces' | 'logs' | 'metrics';
  path: string;
  content_type: string;
  content_encoding: string | null;
}

/** The OTLP requests of a scenario in the order they were sent, with their bodies. */
export function otlpCaptures(scenario: string): (OtlpCapture & { body: Buffer })[] {
  const dir = path.join(fixturesDir, scenario, 'otlp');
  const index = path.join(dir, 'index.jsonl');
  if (!existsSync(index)) throw new Error(`no OTLP captures at ${dir}`);
  return readFileSync(index, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as OtlpCapture)
    .map((c) => ({ ...c, body: readFileSync(path.join(dir, c.file)) }));
}

/** Every captured OTLP traces request of every scenario of an agent that has OTLP captures. */
export function traceCaptures(agent: string): (OtlpCapture & { body: Buffer })[] {
  return readdirSync(path.join(fixturesDir, agent))
    .filter((scenario) => existsSync(path.join(fixturesDir, agent, scenario, 'otlp', 'index.jsonl')))
    .flatMap((scenario) => otlpCaptures(`${agent}/${scenario}`))
    .filter((c) => c.signal === 'traces');
}
