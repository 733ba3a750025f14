import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
// globalSetup runs outside jest's module mapper: the public entry by its path, not the alias.
import { freePort } from '../../libs/event-store/src/testing';
import { KAFKA_VERSION, KafkaBroker } from './kafka-broker';

/** Test files that need a broker live here. */
export const KAFKA_TESTS_DIR = resolve(__dirname, '../int/kafka');

interface JestConfigs {
  readonly testPathPattern?: string;
}
interface JestProjectConfig {
  readonly testPathIgnorePatterns?: readonly string[];
}

/** Whether this run selects any Kafka suite (a unit-only run must not pay for a broker). */
function kafkaSuitesSelected(globalConfig: JestConfigs, projectConfig: JestProjectConfig): boolean {
  if (!existsSync(KAFKA_TESTS_DIR)) return false;
  const files = readdirSync(KAFKA_TESTS_DIR)
    .filter((f) => f.endsWith('.spec.ts'))
    .map((f) => join(KAFKA_TESTS_DIR, f));
  const include = globalConfig.testPathPattern ? new RegExp(globalConfig.testPathPattern, 'i') : undefined;
  const ignore = (projectConfig.testPathIgnorePatterns ?? []).map((p) => new RegExp(p));
  return files.some((f) => (!include || include.test(f)) && !ignore.some((re) => re.test(f)));
}

/**
 * Starts one real Kafka broker for the whole run (unless KAFKA_BROKERS points at one already)
 * and hands its address to the test workers through KAFKA_BROKERS, which they inherit.
 */
export default async function kafkaGlobalSetup(globalConfig: JestConfigs, projectConfig: JestProjectConfig): Promise<void> {
  if (process.env.KAFKA_BROKERS) {
    process.stdout.write(`\nkafka: using KAFKA_BROKERS=${process.env.KAFKA_BROKERS}\n`);
    return;
  }
  if (!kafkaSuitesSelected(globalConfig, projectConfig)) return;
  const broker = await KafkaBroker.start(freePort, (line) => process.stdout.write(`\nkafka: ${line}\n`));
  (globalThis as { __KAFKA_BROKER__?: KafkaBroker }).__KAFKA_BROKER__ = broker;
  process.env.KAFKA_BROKERS = broker.bootstrap;
  process.stdout.write(`\nkafka: Apache Kafka ${KAFKA_VERSION} (KRaft) on ${broker.bootstrap}, started in ${broker.startMs} ms, RSS ${broker.rssMiB()} MiB\n`);
}
