/**
 * Vitest global setup: a Kafka broker for the integration tests, handed to them through
 * `provide('kafkaBrokers')` (read it with `kafkaBrokers()` from test/helpers/kafka.ts).
 *
 *   KAFKA_BROKERS set (comma-separated)  -> used as is (.ci/run starts one broker for the run)
 *   broker jars installed                -> a broker of this run on free ports, stopped at teardown
 *   neither                              -> nothing provided; tests that need Kafka fail and say why
 */
import type { TestProject } from 'vitest/node';
import { brokerInstalled, startBroker } from '../kafka/broker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap addresses of the test Kafka broker; empty when none is available. */
    kafkaBrokers: string[];
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const fromEnv =
    process.env.KAFKA_BROKERS?.split(',')
      .map((b) => b.trim())
      .filter(Boolean) ?? [];
  if (fromEnv.length > 0) {
    project.provide('kafkaBrokers', fromEnv);
    return undefined;
  }
  if (!brokerInstalled()) {
    project.provide('kafkaBrokers', []);
    return undefined;
  }
  // A broker per test run: concurrent runs on one machine do not stop each other's broker.
  const broker = await startBroker();
  project.provide('kafkaBrokers', [broker.address]);
  return () => broker.stop();
}
