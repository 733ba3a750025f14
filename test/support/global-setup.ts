import kafkaGlobalSetup from './kafka-global-setup';
import { postgresGlobalSetup, postgresGlobalTeardown } from './postgres-global-setup';

/** Real servers for the run: a PostgreSQL cluster and a Kafka broker, each unless a URL names one. */
export default async function globalSetup(
  globalConfig: Parameters<typeof kafkaGlobalSetup>[0],
  projectConfig: Parameters<typeof kafkaGlobalSetup>[1],
): Promise<void> {
  await postgresGlobalSetup(projectConfig);
  try {
    await kafkaGlobalSetup(globalConfig, projectConfig);
  } catch (e) {
    await postgresGlobalTeardown(); // jest skips the teardown when the setup fails
    throw e;
  }
}
