import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { EventRelay, MAX_RELAY_BATCH_SIZE, MAX_RELAY_SEND_TIMEOUT_MS, MIN_RELAY_SEND_TIMEOUT_MS } from './event-relay';
import { KafkaJsMessaging } from './kafkajs/kafkajs-messaging';
import { SqliteRelayCheckpoints } from './relay-checkpoints';
import {
  CommandSink,
  MAX_IN_FLIGHT_MESSAGES_LIMIT,
  MAX_PARTITIONS_CONSUMED_CONCURRENTLY,
  MAX_SESSION_TIMEOUT_MS,
  MIN_SESSION_TIMEOUT_MS,
  UsageIngestor,
} from './usage-ingestor';

/** Options are checked when the ingestor and the relay are built: nothing connects here. */
describe('limits of the ingestor and the relay, enforced at construction', () => {
  const messaging = new KafkaJsMessaging({ brokers: ['127.0.0.1:9'], clientId: 'limits' });
  const commands: CommandSink = { execute: () => Promise.reject(new Error('no command runs in this test')) };
  const topics = { usageTopic: 'u', deadLetterTopic: 'u.dlq', resultsTopic: 'u.results', groupId: 'g' };
  let dir: string;
  let store: SqliteEventStore;
  let checkpoints: SqliteRelayCheckpoints;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-limits-'));
    store = SqliteEventStore.open(dir);
    checkpoints = SqliteRelayCheckpoints.open(dir);
  });

  afterAll(async () => {
    checkpoints.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['maxInFlightMessages', 0],
    ['maxInFlightMessages', MAX_IN_FLIGHT_MESSAGES_LIMIT + 1],
    ['partitionsConsumedConcurrently', 0],
    ['partitionsConsumedConcurrently', MAX_PARTITIONS_CONSUMED_CONCURRENTLY + 1],
    ['sessionTimeoutMs', MIN_SESSION_TIMEOUT_MS - 1],
    ['sessionTimeoutMs', MAX_SESSION_TIMEOUT_MS + 1],
    ['maxBytesPerFetch', 1],
    ['maxInFlightMessages', 1.5],
  ])('the ingestor refuses %s = %s', (option, value) => {
    expect(() => new UsageIngestor(messaging, commands, { ...topics, [option]: value })).toThrow(RangeError);
  });

  it('the ingestor accepts the bounds themselves', () => {
    expect(
      () =>
        new UsageIngestor(messaging, commands, {
          ...topics,
          maxInFlightMessages: 1,
          partitionsConsumedConcurrently: MAX_PARTITIONS_CONSUMED_CONCURRENTLY,
          sessionTimeoutMs: MIN_SESSION_TIMEOUT_MS,
        }),
    ).not.toThrow();
  });

  it.each([
    [{ batchSize: 0 }],
    [{ batchSize: MAX_RELAY_BATCH_SIZE + 1 }],
    [{ sendTimeoutMs: MIN_RELAY_SEND_TIMEOUT_MS - 1 }],
    [{ sendTimeoutMs: MAX_RELAY_SEND_TIMEOUT_MS + 1 }],
  ])('the relay refuses %j', (options) => {
    expect(() => new EventRelay(store, () => messaging.producer({ idempotent: true }), checkpoints, { name: 'r', topic: 't', ...options })).toThrow(RangeError);
  });

  it('relay checkpoints are durable positions that never move backwards', async () => {
    await checkpoints.save('r', 10);
    await checkpoints.save('r', 7);
    expect(await checkpoints.load('r')).toBe(10);
    expect(await checkpoints.load('other')).toBe(0);
    await expect(checkpoints.save('r', -1)).rejects.toThrow(RangeError);
    await checkpoints.close();
    checkpoints = SqliteRelayCheckpoints.open(dir);
    expect(await checkpoints.load('r')).toBe(10);
  });
});
