import { rmSync } from 'node:fs';
import {
  DEAD_LETTER_HEADERS,
  MessagingAdmin,
  MessagingProducer,
  OutgoingMessage,
  RESULT_HEADERS,
  UsageIngestor,
  usageMessageValue,
} from '@credit-ledger/messaging';
import { consumption, tempDataDir } from '../../support/ledger-harness';
import {
  createTestTopics,
  deleteTestTopics,
  readTopic,
  TestLedger,
  testMessaging,
  TestTopics,
  uniqueName,
  waitFor,
  waitForGroupCaughtUp,
} from '../../support/kafka-fixtures';

jest.setTimeout(120_000);

const BIG = { email: 1_000_000, mobile: 1_000_000 };
const TIGHT = { email: 2 };
const ACCOUNTS = ['acme', 'beta', 'gamma'];
const CONSUMPTIONS = 600;
const MAX_IN_FLIGHT = 100;

const usage = (type: 'consume' | 'refund' | 'grant', accountId: string, data: object, headers?: Record<string, string>): OutgoingMessage => ({
  key: accountId,
  value: usageMessageValue(type, accountId, data),
  headers,
});

/** Causation ids (`consume:<id>`, `refund:<id>`, `grant:<id>`) of everything in the store. */
async function storedCommands(ledger: TestLedger): Promise<Set<string>> {
  return new Set((await ledger.allEvents()).map((e) => e.metadata.causationId));
}

describe('usage in: credit.usage.v1 -> command bus, against a real broker', () => {
  const messaging = testMessaging();
  let admin: MessagingAdmin;
  let producer: MessagingProducer;
  let topics: TestTopics;
  let dataDir: string;
  let ledger: TestLedger;
  const groupId = uniqueName('group');
  const sent: OutgoingMessage[] = [];

  beforeAll(async () => {
    admin = await messaging.admin();
    topics = await createTestTopics(admin);
    producer = messaging.producer({ idempotent: true });
    await producer.connect();
    dataDir = tempDataDir();
    ledger = await TestLedger.open(dataDir);
    for (const a of ACCOUNTS) await ledger.openAccount(a, BIG);
    await ledger.openAccount('tight', TIGHT);

    for (let i = 0; i < CONSUMPTIONS; i++) {
      const accountId = ACCOUNTS[i % ACCOUNTS.length];
      sent.push(usage('consume', accountId, consumption(`c-${i}`, { creditType: i % 5 === 0 ? 'mobile' : 'email', credits: 1 + (i % 3) })));
    }
    sent.push(usage('refund', 'acme', { refundId: 'r-1', consumptionId: 'c-0', reason: 'bounced' }));
    sent.push(usage('grant', 'beta', { grantId: 'g-1', creditType: 'email', credits: 10, reason: 'promo' }, { correlationId: 'campaign-42' }));
    // A producer retry: the same commands again (same ids, same payloads) must not charge twice.
    sent.push(sent[5], sent[6]);
    sent.push(usage('consume', 'tight', consumption('t-1', { credits: 2 })));
    sent.push(usage('consume', 'tight', consumption('t-2', { credits: 1 }))); // refused: nothing left
    sent.push(usage('consume', 'ghost', consumption('ghost-1'))); // refused: no such account
    // Poison messages: never block their partition, go to the DLQ.
    sent.push({ key: 'acme', value: '{"type": "consume", "accountId": ' });
    sent.push(usage('consume', 'beta', consumption('bad-credits', { credits: 0 })));
    sent.push({ key: 'beta', value: usageMessageValue('consume', 'acme', consumption('wrong-key')) });
    for (let i = 0; i < sent.length; i += 200) await producer.send(topics.usage, sent.slice(i, i + 200));
  });

  afterAll(async () => {
    await producer?.disconnect();
    await ledger?.close();
    if (topics) await deleteTestTopics(admin, topics);
    await admin?.deleteGroups([groupId]).catch(() => undefined);
    await admin?.disconnect();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('applies every command once, in order per account, commits only what is durable, dead-letters poison and reports refusals', async () => {
    const ingestor = new UsageIngestor(messaging, ledger.commands, {
      usageTopic: topics.usage,
      deadLetterTopic: topics.deadLetter,
      resultsTopic: topics.results,
      groupId,
      maxInFlightMessages: MAX_IN_FLIGHT,
      partitionsConsumedConcurrently: 4,
      sessionTimeoutMs: 10_000,
    });
    // While it runs, sample (committed offsets, then the store): whatever was committed must already be stored.
    const samples: { committed: Map<number, bigint>; stored: Set<string> }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const committed = new Map((await admin.committedOffsets(groupId, topics.usage)).map((o) => [o.partition, BigInt(o.offset)]));
        samples.push({ committed, stored: await storedCommands(ledger) });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await ingestor.start();
    try {
      await waitForGroupCaughtUp(admin, groupId, topics.usage);
    } finally {
      sampling = false;
      await sampler;
      await ingestor.stop();
    }

    const stats = ingestor.stats();
    expect(stats).toMatchObject({ applied: CONSUMPTIONS + 3, duplicates: 2, refused: 2, deadLettered: 3 });
    expect(stats.peakInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(stats.backpressureWaits).toBeGreaterThan(0);

    // Balances: what the messages say, and exactly once.
    const events = await ledger.allEvents();
    const consumed = events.filter((e) => e.type === 'CreditConsumed').map((e) => (e.data as { consumptionId: string }).consumptionId);
    expect(consumed).toHaveLength(new Set(consumed).size);
    expect(consumed).toHaveLength(CONSUMPTIONS + 1);
    for (const accountId of ACCOUNTS) {
      const expected = { email: 0, mobile: 0 };
      for (let i = 0; i < CONSUMPTIONS; i++) if (ACCOUNTS[i % ACCOUNTS.length] === accountId) expected[i % 5 === 0 ? 'mobile' : 'email'] += 1 + (i % 3);
      const { balances } = await ledger.balances(accountId);
      const email = balances.find((b) => b.creditType === 'email')!;
      const mobile = balances.find((b) => b.creditType === 'mobile')!;
      expect(email.used).toBe(expected.email);
      expect(mobile.used).toBe(expected.mobile);
      expect(email.granted).toBe(accountId === 'beta' ? 10 : 0);
      expect(mobile.refunded).toBe(accountId === 'acme' ? 1 : 0); // c-0 was a 1-credit mobile reveal
    }

    // Per account, the consumptions were applied in the order they were produced.
    for (const accountId of ACCOUNTS) {
      const order = events
        .filter((e) => e.type === 'CreditConsumed' && e.streamId === `account-${accountId}`)
        .map((e) => Number((e.data as { consumptionId: string }).consumptionId.slice(2)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }

    // Actor and correlation of Kafka-issued commands.
    const grant = events.find((e) => e.type === 'CreditsGranted')!;
    expect(grant.metadata).toMatchObject({ actor: `kafka:${groupId}`, correlationId: 'campaign-42', causationId: 'grant:g-1' });
    expect(events.find((e) => e.metadata.causationId === 'consume:c-1')!.metadata.correlationId).toMatch(
      new RegExp(`^${topics.usage.replace(/\./g, '\\.')}:\\d+:\\d+$`),
    );

    // Offsets were committed only after the events were durable: every sample agrees.
    const usageMessages = await readTopic(messaging, topics.usage, sent.length);
    const commandOf = (value: Buffer | null): string | undefined => {
      try {
        const v = JSON.parse(value!.toString()) as { type: string; data: Record<string, string> };
        return { consume: `consume:${v.data.consumptionId}`, refund: `refund:${v.data.refundId}`, grant: `grant:${v.data.grantId}` }[v.type];
      } catch {
        return undefined;
      }
    };
    const storedAtEnd = await storedCommands(ledger);
    expect(samples.length).toBeGreaterThan(1);
    let checked = 0;
    for (const sample of samples) {
      for (const m of usageMessages) {
        const command = commandOf(m.value);
        if (!command || !storedAtEnd.has(command)) continue; // refused or dead-lettered: nothing to store
        if (BigInt(m.offset) < (sample.committed.get(m.partition) ?? -1n)) {
          expect(sample.stored.has(command)).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);

    // Poison messages are on the DLQ with why and where from; the value is untouched.
    const dead = await readTopic(messaging, topics.deadLetter, 3);
    expect(dead.map((d) => d.headers[DEAD_LETTER_HEADERS.errorCode]).sort()).toEqual(['INVALID_JSON', 'KEY_MISMATCH', 'VALIDATION_FAILED']);
    for (const d of dead) {
      expect(d.headers[DEAD_LETTER_HEADERS.originalTopic]).toBe(topics.usage);
      const original = usageMessages.find(
        (m) => m.partition === Number(d.headers[DEAD_LETTER_HEADERS.originalPartition]) && m.offset === d.headers[DEAD_LETTER_HEADERS.originalOffset],
      )!;
      expect(original).toBeDefined();
      expect(d.value!.equals(original.value!)).toBe(true);
      expect(d.headers[DEAD_LETTER_HEADERS.errorMessage].length).toBeGreaterThan(0);
    }
    expect(dead.find((d) => d.headers[DEAD_LETTER_HEADERS.errorCode] === 'VALIDATION_FAILED')!.headers[DEAD_LETTER_HEADERS.errorMessage]).toContain(
      'data.credits',
    );

    // Refusals are outcomes on the results topic, keyed by the command id.
    const results = await readTopic(messaging, topics.results, 2);
    const byKey = new Map(results.map((r) => [r.key!.toString(), { headers: r.headers, body: JSON.parse(r.value!.toString()) }]));
    expect(byKey.get('t-2')!.body).toMatchObject({
      commandId: 't-2',
      type: 'consume',
      accountId: 'tight',
      outcome: 'refused',
      status: 409,
      error: 'INSUFFICIENT_CREDITS',
    });
    expect(byKey.get('t-2')!.headers[RESULT_HEADERS.outcome]).toBe('refused');
    expect(byKey.get('ghost-1')!.body).toMatchObject({ accountId: 'ghost', error: 'ACCOUNT_NOT_FOUND' });
  });

  it('redelivery: the group replays every message (as after a crash before commit) and nothing is charged twice', async () => {
    const before = await ledger.allEvents();
    await admin.rewindGroup(groupId, topics.usage);
    const again = new UsageIngestor(messaging, ledger.commands, {
      usageTopic: topics.usage,
      deadLetterTopic: topics.deadLetter,
      resultsTopic: topics.results,
      groupId,
      sessionTimeoutMs: 10_000,
    });
    await again.start();
    try {
      await waitFor('the replay', () => again.stats().duplicates + again.stats().refused + again.stats().deadLettered + again.stats().applied >= sent.length);
      await waitForGroupCaughtUp(admin, groupId, topics.usage);
    } finally {
      await again.stop();
    }
    expect(again.stats()).toMatchObject({ applied: 0, duplicates: CONSUMPTIONS + 3 + 2, refused: 2, deadLettered: 3 });
    expect(await ledger.allEvents()).toEqual(before);
  });
});
