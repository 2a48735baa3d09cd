/** Paths into ../shared/fixtures: real captures from the real agent CLIs. */
import { existsSync, readFileSync } from 'node:fs';
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
