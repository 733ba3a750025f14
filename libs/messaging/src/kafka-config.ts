import { ConfigError } from '@credit-ledger/ledger';
import { DEFAULT_RELAY_BATCH_SIZE, MAX_RELAY_BATCH_SIZE } from './event-relay';
import { DEFAULT_EVENTS_TOPIC, DEFAULT_USAGE_GROUP_ID, DEFAULT_USAGE_TOPIC, deadLetterTopicOf, resultsTopicOf, TOPIC_NAME_PATTERN } from './topics';
import {
  DEFAULT_MAX_IN_FLIGHT_MESSAGES,
  DEFAULT_PARTITIONS_CONSUMED_CONCURRENTLY,
  DEFAULT_SESSION_TIMEOUT_MS,
  MAX_IN_FLIGHT_MESSAGES_LIMIT,
  MAX_PARTITIONS_CONSUMED_CONCURRENTLY,
  MAX_SESSION_TIMEOUT_MS,
  MIN_SESSION_TIMEOUT_MS,
} from './usage-ingestor';

export const WORKER_ROLES = ['ingest', 'relay'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];
/** Partitions of the usage topic when the worker creates it (KAFKA_CREATE_TOPICS=true). */
export const DEFAULT_USAGE_PARTITIONS = 12;
export const MAX_TOPIC_PARTITIONS = 1_000;
const BROKER_PATTERN = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const GROUP_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

export interface KafkaWorkerConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly roles: readonly WorkerRole[];
  readonly usageTopic: string;
  readonly deadLetterTopic: string;
  readonly resultsTopic: string;
  readonly eventsTopic: string;
  readonly groupId: string;
  readonly relayName: string;
  readonly relayBatchSize: number;
  readonly maxInFlightMessages: number;
  readonly partitionsConsumedConcurrently: number;
  readonly sessionTimeoutMs: number;
  readonly createTopics: boolean;
  readonly usagePartitions: number;
}

/** Reads the worker's Kafka settings; every problem is reported at once, with the variable's name. */
export function loadKafkaConfig(env: NodeJS.ProcessEnv = process.env): KafkaWorkerConfig {
  const problems: string[] = [];
  const text = (name: string, fallback: string) => (env[name] === undefined || env[name] === '' ? fallback : (env[name] as string));
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const raw = text(name, String(fallback));
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be an integer ${min}..${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const topic = (name: string, fallback: string) => {
    const value = text(name, fallback);
    if (!TOPIC_NAME_PATTERN.test(value)) problems.push(`${name} must be a Kafka topic name (${TOPIC_NAME_PATTERN}), got "${value}"`);
    return value;
  };

  const brokersText = env.KAFKA_BROKERS ?? '';
  const brokers = brokersText
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) problems.push('KAFKA_BROKERS is required: a comma-separated list of host:port');
  for (const b of brokers) if (!BROKER_PATTERN.test(b)) problems.push(`KAFKA_BROKERS entry "${b}" is not host:port`);

  const rolesText = text('WORKER_ROLES', WORKER_ROLES.join(','));
  const roles = [
    ...new Set(
      rolesText
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    ),
  ] as WorkerRole[];
  if (roles.length === 0 || roles.some((r) => !WORKER_ROLES.includes(r)))
    problems.push(`WORKER_ROLES must be a comma-separated subset of ${WORKER_ROLES.join(', ')}, got "${rolesText}"`);

  const usageTopic = topic('KAFKA_USAGE_TOPIC', DEFAULT_USAGE_TOPIC);
  const eventsTopic = topic('KAFKA_EVENTS_TOPIC', DEFAULT_EVENTS_TOPIC);
  const groupId = text('KAFKA_GROUP_ID', DEFAULT_USAGE_GROUP_ID);
  if (!GROUP_ID_PATTERN.test(groupId)) problems.push(`KAFKA_GROUP_ID must match ${GROUP_ID_PATTERN}, got "${groupId}"`);
  const clientId = text('KAFKA_CLIENT_ID', 'credit-ledger');
  if (!GROUP_ID_PATTERN.test(clientId)) problems.push(`KAFKA_CLIENT_ID must match ${GROUP_ID_PATTERN}, got "${clientId}"`);
  const createTopicsText = text('KAFKA_CREATE_TOPICS', 'false');
  if (createTopicsText !== 'true' && createTopicsText !== 'false') problems.push(`KAFKA_CREATE_TOPICS must be true or false, got "${createTopicsText}"`);

  const config: KafkaWorkerConfig = {
    brokers,
    clientId,
    roles,
    usageTopic,
    deadLetterTopic: topic('KAFKA_USAGE_DLQ_TOPIC', deadLetterTopicOf(usageTopic)),
    resultsTopic: topic('KAFKA_USAGE_RESULTS_TOPIC', resultsTopicOf(usageTopic)),
    eventsTopic,
    groupId,
    relayName: text('KAFKA_RELAY_NAME', `relay:${eventsTopic}`),
    relayBatchSize: integer('KAFKA_RELAY_BATCH_SIZE', DEFAULT_RELAY_BATCH_SIZE, 1, MAX_RELAY_BATCH_SIZE),
    maxInFlightMessages: integer('KAFKA_MAX_IN_FLIGHT_MESSAGES', DEFAULT_MAX_IN_FLIGHT_MESSAGES, 1, MAX_IN_FLIGHT_MESSAGES_LIMIT),
    partitionsConsumedConcurrently: integer('KAFKA_PARTITIONS_CONCURRENCY', DEFAULT_PARTITIONS_CONSUMED_CONCURRENTLY, 1, MAX_PARTITIONS_CONSUMED_CONCURRENTLY),
    sessionTimeoutMs: integer('KAFKA_SESSION_TIMEOUT_MS', DEFAULT_SESSION_TIMEOUT_MS, MIN_SESSION_TIMEOUT_MS, MAX_SESSION_TIMEOUT_MS),
    createTopics: createTopicsText === 'true',
    usagePartitions: integer('KAFKA_USAGE_PARTITIONS', DEFAULT_USAGE_PARTITIONS, 1, MAX_TOPIC_PARTITIONS),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
