import { rmSync } from 'node:fs';
import { planOf } from '@credit-ledger/domain/testing';
import { OpenAccountCommand } from '@credit-ledger/ledger';
import { MessagingAdmin, MessagingProducer, OutgoingMessage, RESULT_HEADERS, UsageIngestor, usageMessageValue } from '@credit-ledger/messaging';
import { tempDataDir } from '../../support/ledger-harness';
import {
  createTestTopics,
  deleteTestTopics,
  readTopic,
  SUPERUSER,
  TestLedger,
  testMessaging,
  TestTopics,
  uniqueName,
  waitForGroupCaughtUp,
} from '../../support/kafka-fixtures';

jest.setTimeout(120_000);

type UsageType = Parameters<typeof usageMessageValue>[0];
const message = (type: UsageType, data: object): OutgoingMessage => ({ key: 'holds', value: usageMessageValue(type, 'holds', data) });
const hold = (reservationId: string, extra: object = {}) => ({
  reservationId,
  userId: 'ana',
  creditType: 'email',
  feature: 'enrichment',
  action: 'waterfall',
  credits: 30,
  ...extra,
});

describe('usage in: reserve, capture and release through Kafka, against a real broker', () => {
  const messaging = testMessaging();
  let admin: MessagingAdmin;
  let producer: MessagingProducer;
  let topics: TestTopics;
  let dataDir: string;
  let ledger: TestLedger;
  const groupId = uniqueName('group');

  beforeAll(async () => {
    admin = await messaging.admin();
    topics = await createTestTopics(admin);
    producer = messaging.producer({ idempotent: true });
    await producer.connect();
    dataDir = tempDataDir();
    ledger = await TestLedger.open(dataDir);
    await ledger.commands.execute(new OpenAccountCommand('holds', 'Holds', planOf({ email: 100 }), SUPERUSER));
    await producer.send(topics.usage, [
      message('reserve', hold('h1')), // holds 30
      message('reserve', hold('h2')), // holds 30
      message('reserve', hold('h1')), // a producer retry: a duplicate
      message('reserve', hold('h3', { credits: 41 })), // refused: INSUFFICIENT_CREDITS (available 40)
      message('consume', { consumptionId: 'c-0', userId: 'ana', creditType: 'email', feature: 'f', action: 'a', credits: 41 }), // refused too
      message('capture', { reservationId: 'h1', consumptionId: 'c-1', credits: 12 }), // 12 used, 18 back
      message('capture', { reservationId: 'h1', consumptionId: 'c-1', credits: 12 }), // a retry: a duplicate
      message('capture', { reservationId: 'h2', consumptionId: 'c-2', credits: 31 }), // refused: CAPTURE_EXCEEDS_RESERVATION
      message('release', { reservationId: 'h2', reason: 'nothing found' }), // 30 back
      message('release', { reservationId: 'h2' }), // idempotent: a duplicate
      message('capture', { reservationId: 'h2', consumptionId: 'c-3' }), // refused: RESERVATION_NOT_OPEN
      message('capture', { consumptionId: 'c-4' }), // poison: no reservationId
      message('reserve', hold('h4', { expiresInSeconds: 0 })), // poison: out of range
    ]);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await ledger?.close();
    if (topics) await deleteTestTopics(admin, topics);
    await admin?.deleteGroups([groupId]).catch(() => undefined);
    await admin?.disconnect();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('applies each in order with the HTTP validation and refusals, and reports refusals by code on the results topic', async () => {
    const ingestor = new UsageIngestor(messaging, ledger.commands, {
      usageTopic: topics.usage,
      deadLetterTopic: topics.deadLetter,
      resultsTopic: topics.results,
      groupId,
      maxInFlightMessages: 100,
      partitionsConsumedConcurrently: 2,
      sessionTimeoutMs: 10_000,
    });
    await ingestor.start();
    try {
      await waitForGroupCaughtUp(admin, groupId, topics.usage);
    } finally {
      await ingestor.stop();
    }
    expect(ingestor.stats()).toMatchObject({ applied: 4, duplicates: 3, refused: 4, deadLettered: 2 });
    const types = (await ledger.allEvents()).map((e) => e.type);
    expect(types.filter((type) => type === 'CreditsReserved')).toHaveLength(2);
    expect(types.filter((type) => type === 'ReservationCaptured')).toHaveLength(1);
    expect(types.filter((type) => type === 'ReservationReleased')).toHaveLength(1);
    const email = (await ledger.balances('holds')).balances.find((b) => b.creditType === 'email');
    expect(email).toMatchObject({ used: 12, remaining: 88 });

    const results = await readTopic(messaging, topics.results, 4);
    const errors = results.map((r) => JSON.parse(r.value!.toString()).error).sort();
    expect(errors).toEqual(['CAPTURE_EXCEEDS_RESERVATION', 'INSUFFICIENT_CREDITS', 'INSUFFICIENT_CREDITS', 'RESERVATION_NOT_OPEN']);
    expect(results.every((r) => r.headers[RESULT_HEADERS.outcome] === 'refused')).toBe(true);
  });
});
