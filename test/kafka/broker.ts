/** Starting and stopping a test broker of `broker.sh` from Node, on ports the OS picks. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = fileURLToPath(new URL('broker.sh', import.meta.url));

export const brokerInstalled = (): boolean => existsSync(fileURLToPath(new URL('.kafka/libs/.complete', import.meta.url)));

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

export interface TestBroker {
  address: string;
  pid: number;
  /** Stops the broker and deletes its data. */
  stop(): Promise<void>;
}

/** A fresh single-node broker on free ports (its own run directory, so brokers can coexist). */
export async function startBroker(): Promise<TestBroker> {
  const port = await freePort();
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(await freePort()) };
  const { stdout } = await run(script, ['start'], { env });
  const pid = Number(readFileSync(fileURLToPath(new URL(`.kafka/run-${port}/broker.pid`, import.meta.url)), 'utf8'));
  return {
    address: stdout.trim().split('\n').at(-1)!,
    pid,
    stop: async () => {
      await run(script, ['stop'], { env });
    },
  };
}
