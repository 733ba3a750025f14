import kafkaGlobalTeardown from './kafka-global-teardown';
import { postgresGlobalTeardown } from './postgres-global-setup';

export default async function globalTeardown(): Promise<void> {
  await kafkaGlobalTeardown();
  await postgresGlobalTeardown();
}
