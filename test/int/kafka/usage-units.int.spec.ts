import { rmSync } from 'node:fs';
import { planOf } from '@credit-ledger/domain/testing';
import { OpenAccountCommand, SetMemberLimitsCommand } from '@credit-ledger/ledger';
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

const RATES = [
  { feature: 'people_search', creditType: 'email', credits: 1 },
  { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 2 },
];

const consume = (accountId: string, data: object): OutgoingMessage => ({ key: accountId, value: usageMessageValue('consume', accountId, data) });
const priced = (consumptionId: string, extra: object = {}) => ({ consumptionId, userId: 'ana', feature: 'people_search', action: 'mobile_reveal', ...extra });

describe('usage in with units: rate-card pricing through Kafka, against a real broker', () => {
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
    await ledger.commands.execute(new OpenAccountCommand('priced', 'Priced', { ...planOf({ email: 100, mobile: 20 }), rates: RATES }, SUPERUSER));
    await ledger.commands.execute(
      new OpenAccountCommand('strict', 'Strict', { ...planOf({ email: 100, mobile: 20 }), rates: RATES, clientPrices: false }, SUPERUSER),
    );
    await ledger.commands.execute(new SetMemberLimitsCommand('priced', 'ben', { mobile: 2 }, SUPERUSER));
    await producer.send(topics.usage, [
      consume('priced', priced('k-1', { units: 3 })), // 6 mobile
      consume('priced', priced('k-2', { action: 'email_reveal', units: 4 })), // 4 email (the feature's default)
      consume('priced', priced('k-3', { creditType: 'mobile', credits: 1 })), // client-priced, 1 mobile
      consume('priced', priced('k-1', { units: 3 })), // a producer retry: a duplicate
      consume('priced', priced('k-4', { feature: 'enrichment' })), // refused: NO_RATE_FOR_ACTION
      consume('priced', priced('k-5', { userId: 'ben', units: 2 })), // refused: MEMBER_LIMIT_EXCEEDED (4 > 2)
      consume('strict', priced('k-6', { creditType: 'email', credits: 1, action: 'email_reveal' })), // refused: CLIENT_PRICE_NOT_ALLOWED
      consume('strict', priced('k-7', { action: 'email_reveal' })), // 1 email
      consume('priced', priced('k-8', { units: 0 })), // poison: dead-lettered
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

  it('prices units at the rate in force, records how, and reports each refusal by its code', async () => {
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
    expect(ingestor.stats()).toMatchObject({ applied: 4, duplicates: 1, refused: 3, deadLettered: 1 });

    const consumed = new Map(
      (await ledger.allEvents())
        .filter((e) => e.type === 'CreditConsumed')
        .map((e) => e.data as { consumptionId: string; creditType: string; creditsCharged: number; units: number; pricedBy: string; rate: unknown })
        .map((d) => [d.consumptionId, d]),
    );
    expect(consumed.get('k-1')).toMatchObject({ creditType: 'mobile', units: 3, creditsCharged: 6, pricedBy: 'rate_card', rate: { credits: 2 } });
    expect(consumed.get('k-2')).toMatchObject({ creditType: 'email', units: 4, creditsCharged: 4, pricedBy: 'rate_card', rate: { action: null } });
    expect(consumed.get('k-3')).toMatchObject({ creditType: 'mobile', units: 1, creditsCharged: 1, pricedBy: 'client', rate: null });
    expect(consumed.get('k-7')).toMatchObject({ creditType: 'email', creditsCharged: 1, pricedBy: 'rate_card' });
    expect([...consumed.keys()].sort()).toEqual(['k-1', 'k-2', 'k-3', 'k-7']);
    const balances = (await ledger.balances('priced')).balances;
    expect(balances.find((b) => b.creditType === 'mobile')).toMatchObject({ used: 7, remaining: 13 });
    expect(balances.find((b) => b.creditType === 'email')).toMatchObject({ used: 4, remaining: 96 });

    const results = await readTopic(messaging, topics.results, 3);
    const errors = Object.fromEntries(results.map((r) => [r.key!.toString(), JSON.parse(r.value!.toString()).error]));
    expect(errors).toEqual({ 'k-4': 'NO_RATE_FOR_ACTION', 'k-5': 'MEMBER_LIMIT_EXCEEDED', 'k-6': 'CLIENT_PRICE_NOT_ALLOWED' });
    expect(results.every((r) => r.headers[RESULT_HEADERS.outcome] === 'refused')).toBe(true);
  });
});
