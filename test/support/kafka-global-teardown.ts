import { KafkaBroker } from './kafka-broker';

export default async function kafkaGlobalTeardown(): Promise<void> {
  const holder = globalThis as { __KAFKA_BROKER__?: KafkaBroker };
  const broker = holder.__KAFKA_BROKER__;
  if (!broker) return;
  process.stdout.write(`\nkafka: stopping the broker on ${broker.bootstrap} (RSS ${broker.rssMiB()} MiB at the end of the run)\n`);
  await broker.destroy();
  holder.__KAFKA_BROKER__ = undefined;
}
