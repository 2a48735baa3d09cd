/**
 * Vitest global setup: a Kafka broker for the integration tests, handed to them through
 * `provide('kafkaBrokers')` (read it with `kafkaBrokers()` from test/helpers/kafka.ts).
 *
 *   KAFKA_BROKERS set (comma-separated)  -> used as is (.ci/run starts one broker for the run)
 *   broker jars installed                -> a broker of this run on free ports, stopped at teardown
 *   neither                              -> nothing provided; tests that need Kafka fail and say why
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap addresses of the test Kafka broker; empty when none is available. */
    kafkaBrokers: string[];
  }
}

const run = promisify(execFile);
const brokerScript = fileURLToPath(new URL('../kafka/broker.sh', import.meta.url));
const installedMarker = fileURLToPath(new URL('../kafka/.kafka/libs/.complete', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const fromEnv = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean) ?? [];
  if (fromEnv.length > 0) {
    project.provide('kafkaBrokers', fromEnv);
    return undefined;
  }
  if (!existsSync(installedMarker)) {
    project.provide('kafkaBrokers', []);
    return undefined;
  }
  // A broker per test run: concurrent runs on one machine do not stop each other's broker.
  const env = { ...process.env, KAFKA_PORT: String(await freePort()), KAFKA_CONTROLLER_PORT: String(await freePort()) };
  const { stdout } = await run(brokerScript, ['start'], { env });
  project.provide('kafkaBrokers', [stdout.trim().split('\n').at(-1)!]);
  return async () => {
    await run(brokerScript, ['stop'], { env });
  };
}
