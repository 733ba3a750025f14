import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { randomBytes } from 'node:crypto';
import { planOf } from '@credit-ledger/domain/testing';
import { EventStore, RecordedEvent } from '@credit-ledger/event-store';
import { EVENT_STORE, GetBalancesQuery, LedgerModule, OpenAccountCommand } from '@credit-ledger/ledger';
import { deadLetterTopicOf, EVENT_HEADERS, IncomingMessage, KafkaJsMessaging, Messaging, MessagingAdmin, resultsTopicOf } from '@credit-ledger/messaging';
import { kafkaBrokers, TEST_TOPIC_PARTITIONS } from './kafka-broker';
import { testConfig } from './ledger-harness';

export const SUPERUSER = { principal: { kind: 'superuser' as const }, actor: 'test', correlationId: 'test' };

export function uniqueName(prefix: string): string {
  return `t.${prefix}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;
}

export function testMessaging(brokers: readonly string[] = kafkaBrokers()): KafkaJsMessaging {
  return new KafkaJsMessaging({ brokers, clientId: uniqueName('client') });
}

export interface TestTopics {
  readonly usage: string;
  readonly deadLetter: string;
  readonly results: string;
  readonly events: string;
}

/** Fresh topics for one test (names never reused, so tests never see each other's messages). */
export async function createTestTopics(admin: MessagingAdmin, partitions = TEST_TOPIC_PARTITIONS): Promise<TestTopics> {
  const usage = uniqueName('usage');
  const topics: TestTopics = { usage, deadLetter: deadLetterTopicOf(usage), results: resultsTopicOf(usage), events: uniqueName('events') };
  await admin.createTopics([
    { topic: topics.usage, partitions },
    { topic: topics.deadLetter, partitions: 1 },
    { topic: topics.results, partitions },
    { topic: topics.events, partitions },
  ]);
  return topics;
}

export async function deleteTestTopics(admin: MessagingAdmin, topics: TestTopics): Promise<void> {
  await admin.deleteTopics([topics.usage, topics.deadLetter, topics.results, topics.events]).catch(() => undefined);
}

export interface ReadMessage extends IncomingMessage {
  readonly partition: number;
}

/** Reads a topic from the beginning until `count` messages arrived (or fails after `timeoutMs`). */
export function readTopic(messaging: Messaging, topic: string, count: number, timeoutMs = 60_000): Promise<ReadMessage[]> {
  return readTopicUntil(messaging, topic, (out) => out.length >= count, `${count} messages`, timeoutMs);
}

/** Reads a topic from the beginning until `enough(messages so far)` (or fails after `timeoutMs`). */
export async function readTopicUntil(
  messaging: Messaging,
  topic: string,
  enoughRead: (messages: readonly ReadMessage[]) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  if (enoughRead(out)) return out;
  const groupId = uniqueName('reader');
  const consumer = messaging.batchConsumer({
    groupId,
    sessionTimeoutMs: 10_000,
    maxBytesPerFetch: 8 * 1024 * 1024,
    maxBytesPerPartition: 1024 * 1024,
    partitionsConsumedConcurrently: 1,
    fromBeginning: true,
  });
  let done!: () => void;
  const enough = new Promise<void>((r) => (done = r));
  await consumer.run(topic, async (batch) => {
    for (const m of batch.messages) out.push({ ...m, partition: batch.partition });
    if (batch.messages.length > 0) batch.resolve(batch.messages[batch.messages.length - 1].offset);
    if (enoughRead(out)) done();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      enough,
      new Promise<void>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`read ${out.length} messages from ${topic} in ${timeoutMs} ms, not ${what}`)), timeoutMs)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.stop();
    const admin = await messaging.admin();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return out;
}

/** Waits until the group has committed every message of the topic. */
export async function waitForGroupCaughtUp(admin: MessagingAdmin, groupId: string, topic: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const end = await admin.endOffsets(topic);
    const committed = new Map((await admin.committedOffsets(groupId, topic)).map((o) => [o.partition, o.offset]));
    const behind = end.filter((e) => e.offset !== '0' && committed.get(e.partition) !== e.offset);
    if (behind.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `group ${groupId} is behind on ${topic}: ${behind.map((b) => `p${b.partition} committed ${committed.get(b.partition)} of ${b.offset}`).join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { waitFor } from '@credit-ledger/event-store/testing';

export { planOf };

/** The command side without HTTP on a data dir (what a worker runs). */
export class TestLedger {
  private constructor(readonly app: INestApplicationContext) {}

  static async open(dataDir: string): Promise<TestLedger> {
    const app = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config: testConfig(dataDir), http: false }), {
      logger: false,
      abortOnError: false,
    });
    return new TestLedger(app);
  }

  get commands(): CommandBus {
    return this.app.get(CommandBus);
  }

  get store(): EventStore {
    return this.app.get<EventStore>(EVENT_STORE);
  }

  /** Opens an account with `allocations` per credit type (overdraft denied, monthly cycle). */
  async openAccount(accountId: string, allocations: Record<string, number>): Promise<void> {
    await this.commands.execute(new OpenAccountCommand(accountId, accountId, planOf(allocations), SUPERUSER));
  }

  balances(
    accountId: string,
  ): Promise<{ balances: { creditType: string; allocated: number; granted: number; used: number; refunded: number; expired: number; remaining: number }[] }> {
    return this.app.get(QueryBus).execute(new GetBalancesQuery(accountId));
  }

  async allEvents(): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for (;;) {
      const page = await this.store.readAll({ after: out.length ? out[out.length - 1].position : 0, limit: 10_000 });
      if (page.length === 0) return out;
      out.push(...page);
    }
  }

  close(): Promise<void> {
    return this.app.close();
  }
}

/**
 * Checks what the relay produced against the store: every event present (at least once), each
 * account on one partition, and per partition the positions of first sightings strictly increase
 * (store order per account). Answers the number of duplicates.
 */
export async function expectRelayedInOrder(ledger: TestLedger, messages: readonly ReadMessage[]): Promise<number> {
  const stored = await ledger.allEvents();
  const byPosition = new Map(stored.map((e) => [e.position, e]));
  const seen = new Set<number>();
  const lastByPartition = new Map<number, number>();
  const partitionOfAccount = new Map<string, number>();
  let duplicates = 0;
  const ordered = [...messages].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  for (const m of ordered) {
    const position = Number(m.headers[EVENT_HEADERS.position]);
    const event = byPosition.get(position)!;
    expect(event).toBeDefined();
    const body = JSON.parse(m.value!.toString());
    expect(body).toMatchObject({ position, eventId: event.eventId, type: event.type, streamId: event.streamId, data: event.data, metadata: event.metadata });
    expect(m.headers).toMatchObject({
      [EVENT_HEADERS.eventId]: event.eventId,
      [EVENT_HEADERS.type]: event.type,
      [EVENT_HEADERS.schemaVersion]: String(event.metadata.schemaVersion),
    });
    const accountId = m.key!.toString();
    expect(`account-${accountId.replace(/-/g, '~')}`).toBe(event.streamId);
    if (!partitionOfAccount.has(accountId)) partitionOfAccount.set(accountId, m.partition);
    expect(partitionOfAccount.get(accountId)).toBe(m.partition);
    if (seen.has(position)) {
      duplicates++;
      continue;
    }
    seen.add(position);
    expect(position).toBeGreaterThan(lastByPartition.get(m.partition) ?? 0);
    lastByPartition.set(m.partition, position);
  }
  expect([...seen].sort((a, b) => a - b)).toEqual(stored.map((e) => e.position));
  return duplicates;
}
