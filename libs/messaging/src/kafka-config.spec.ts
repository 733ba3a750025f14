import { ConfigError } from '@credit-ledger/ledger';
import { loadKafkaConfig } from './kafka-config';
import { MAX_IN_FLIGHT_MESSAGES_LIMIT, MIN_SESSION_TIMEOUT_MS } from './usage-ingestor';

describe('worker configuration (environment)', () => {
  it('defaults to the contract topic names', () => {
    expect(loadKafkaConfig({ KAFKA_BROKERS: 'localhost:9092' })).toMatchObject({
      brokers: ['localhost:9092'],
      roles: ['ingest', 'relay'],
      usageTopic: 'credit.usage.v1',
      deadLetterTopic: 'credit.usage.v1.dlq',
      resultsTopic: 'credit.usage.v1.results',
      eventsTopic: 'credit.events.v1',
      groupId: 'credit-ledger-usage',
      relayName: 'relay:credit.events.v1',
      createTopics: false,
    });
  });

  it('derives the DLQ and results topics from a configured usage topic', () => {
    const c = loadKafkaConfig({ KAFKA_BROKERS: 'a:1,b:2', KAFKA_USAGE_TOPIC: 'acme.usage', WORKER_ROLES: 'ingest' });
    expect(c).toMatchObject({ brokers: ['a:1', 'b:2'], roles: ['ingest'], deadLetterTopic: 'acme.usage.dlq', resultsTopic: 'acme.usage.results' });
  });

  it('reports every bad variable at once, by name', () => {
    let error: unknown;
    try {
      loadKafkaConfig({
        KAFKA_USAGE_TOPIC: 'bad topic',
        WORKER_ROLES: 'ingest,projections',
        KAFKA_MAX_IN_FLIGHT_MESSAGES: String(MAX_IN_FLIGHT_MESSAGES_LIMIT + 1),
        KAFKA_SESSION_TIMEOUT_MS: String(MIN_SESSION_TIMEOUT_MS - 1),
        KAFKA_CREATE_TOPICS: 'yes',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'KAFKA_BROKERS',
      'KAFKA_USAGE_TOPIC',
      'WORKER_ROLES',
      'KAFKA_MAX_IN_FLIGHT_MESSAGES',
      'KAFKA_SESSION_TIMEOUT_MS',
      'KAFKA_CREATE_TOPICS',
    ]) {
      expect(problems).toContain(name);
    }
  });
});
