/**
 * A consumer whose handler never resolves: it reports the offsets it got on stdout, one JSON
 * line per batch, and waits to be killed. kafka.test.ts SIGKILLs it mid-batch.
 *   BROKERS=host:port TOPIC=name GROUP=name node --import tsx hanging-consumer.ts
 */
import { KafkaBus } from '../kafka.ts';
import { signalTopic } from '../topics.ts';

const { BROKERS, TOPIC, GROUP } = process.env;
if (!BROKERS || !TOPIC || !GROUP) throw new Error('BROKERS, TOPIC and GROUP must be set');

const bus = new KafkaBus({ brokers: BROKERS.split(','), clientId: 'hanging-consumer', partitions: 1, replicationFactor: 1, sessionTimeoutMs: 6_000 });
await bus.subscribe(signalTopic(TOPIC, 'traces'), { group: GROUP }, async (batch) => {
  process.stdout.write(JSON.stringify(batch.map((m) => m.offset)) + '\n');
  await new Promise<never>(() => {});
});
