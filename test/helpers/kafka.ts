/** What integration tests need to reach the test Kafka broker (see test/setup/global.ts). */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startBroker, type TestBroker } from '../kafka/broker.ts';

/**
 * The test broker's bootstrap addresses. Throws when there is none, so a test that needs
 * Kafka fails instead of silently passing without it.
 */
export function kafkaBrokers(): string[] {
  const brokers = inject('kafkaBrokers');
  if (!brokers || brokers.length === 0) {
    throw new Error(
      'No Kafka broker for the integration tests. Install the broker once with `test/kafka/broker.sh install` ' +
        '(the test run then starts its own), or start one with `test/kafka/broker.sh start` and set ' +
        'KAFKA_BROKERS=127.0.0.1:19092.',
    );
  }
  return brokers;
}

/** A topic/group name prefix no other test or run uses, e.g. `test.kafka-bus.lq2x9a1f.` */
export function uniqueTopicPrefix(name: string): string {
  const safe = name.replace(/[^a-zA-Z0-9_-]+/g, '-').slice(0, 60);
  return `test.${safe}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;
}

/**
 * A broker of the calling test's own, for tests that take it down: `pause`/`resume` freeze
 * and thaw its JVM, as a stalled broker or a network partition would.
 */
export async function startPrivateBroker(): Promise<TestBroker & { pause(): void; resume(): void }> {
  const broker = await startBroker();
  return {
    ...broker,
    pause: () => process.kill(broker.pid, 'SIGSTOP'),
    resume: () => process.kill(broker.pid, 'SIGCONT'),
    stop: async () => {
      process.kill(broker.pid, 'SIGCONT');
      await broker.stop();
    },
  };
}
