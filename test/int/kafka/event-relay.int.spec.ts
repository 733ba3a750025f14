import { rmSync } from 'node:fs';
import { ConsumeCreditsCommand, GrantCreditsCommand, RefundCreditsCommand, ResetCycleCommand } from '@credit-ledger/ledger';
import { EVENT_HEADERS, EventRelay, KafkaJsMessaging, MessagingAdmin, SqliteRelayCheckpoints } from '@credit-ledger/messaging';
import { freePort } from '@credit-ledger/event-store/testing';
import { KafkaBroker } from '../../support/kafka-broker';
import { expectRelayedInOrder, readTopic, readTopicUntil, SUPERUSER, TestLedger, testMessaging, uniqueName, waitFor } from '../../support/kafka-fixtures';
import { consumption, tempDataDir } from '../../support/ledger-harness';

jest.setTimeout(180_000);

const ACCOUNTS = ['a-1', 'b-2', 'c-3', 'd-4', 'e-5'];
const RELAY_BATCH = 50;

async function consume(ledger: TestLedger, from: number, to: number): Promise<void> {
  await Promise.all(
    Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      return ledger.commands.execute(new ConsumeCreditsCommand(ACCOUNTS[i % ACCOUNTS.length], consumption(`c${i}`, { credits: 1 }), SUPERUSER));
    }),
  );
}

describe('committed events out: store -> credit.events.v1, against a real broker', () => {
  it('publishes every event keyed by account, in store order, with its headers; a restarted relay resumes from its checkpoint', async () => {
    const messaging = testMessaging();
    const admin: MessagingAdmin = await messaging.admin();
    const topic = uniqueName('events');
    await admin.createTopics([{ topic, partitions: 4 }]);
    const dataDir = tempDataDir();
    const ledger = await TestLedger.open(dataDir);
    const checkpoints = SqliteRelayCheckpoints.open(dataDir);
    const name = `relay:${topic}`;
    const newRelay = () => new EventRelay(ledger.store, () => messaging.producer({ idempotent: true }), checkpoints, { name, topic, batchSize: RELAY_BATCH });
    try {
      for (const a of ACCOUNTS) await ledger.openAccount(a, { email: 1_000_000, mobile: 100 });
      const first = newRelay();
      first.start();
      await consume(ledger, 0, 300);
      await ledger.commands.execute(new GrantCreditsCommand('a-1', { grantId: 'g1', creditType: 'email', credits: 5, reason: 'promo' }, SUPERUSER));
      await ledger.commands.execute(new RefundCreditsCommand('b-2', { refundId: 'r1', consumptionId: 'c1', reason: 'bounced' }, SUPERUSER));
      await waitFor('the first relay to publish something', () => first.stats().published > 0);
      await first.stop();
      const stoppedAt = await checkpoints.load(name);
      expect(stoppedAt).toBe(first.stats().checkpoint);

      // Movements while no relay runs, then a new relay: it resumes where the first one stopped.
      await consume(ledger, 300, 500);
      await ledger.commands.execute(new ResetCycleCommand('c-3', { cycleId: '2099-01' }, SUPERUSER));
      const second = newRelay();
      second.start();
      const head = await ledger.store.headPosition();
      await waitFor('the second relay to catch up', () => second.stats().checkpoint === head);
      await second.stop();
      expect(second.stats().published).toBe(head - stoppedAt);
      expect(await checkpoints.load(name)).toBe(head);

      const messages = await readTopic(messaging, topic, head);
      const duplicates = await expectRelayedInOrder(ledger, messages);
      expect(duplicates).toBe(0); // a clean stop checkpoints what was acknowledged: nothing is sent twice
      expect(messages).toHaveLength(head);
      // Cycle resets flow out like every other movement (downstream billing reacts to them).
      expect(messages.filter((m) => m.headers[EVENT_HEADERS.type] === 'CycleReset')).toHaveLength(1);
    } finally {
      checkpoints.close();
      await ledger.close();
      await admin.deleteTopics([topic]).catch(() => undefined);
      await admin.disconnect();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('survives a broker outage: waits, retries and resumes with nothing lost and order kept', async () => {
    // Its own broker: stopping the shared one would disturb the other suites.
    const broker = await KafkaBroker.start(freePort);
    const messaging = new KafkaJsMessaging({ brokers: [broker.bootstrap], clientId: uniqueName('outage') });
    const topic = uniqueName('events');
    const dataDir = tempDataDir();
    const ledger = await TestLedger.open(dataDir);
    const checkpoints = SqliteRelayCheckpoints.open(dataDir);
    let relay: EventRelay | undefined;
    try {
      const admin = await messaging.admin();
      await admin.createTopics([{ topic, partitions: 4 }]);
      await admin.disconnect();
      for (const a of ACCOUNTS) await ledger.openAccount(a, { email: 1_000_000 });
      relay = new EventRelay(ledger.store, () => messaging.producer({ idempotent: true }), checkpoints, {
        name: 'outage',
        topic,
        batchSize: RELAY_BATCH,
        sendTimeoutMs: 1_500, // shorter than the outage: the relay gives up on its producer and starts a new one
      });
      relay.start();
      await consume(ledger, 0, 200);
      let head = await ledger.store.headPosition();
      await waitFor('the relay to catch up before the outage', () => relay!.stats().checkpoint === head);

      await broker.stop();
      // The ledger keeps taking commands while Kafka is down: the store is the outbox.
      await consume(ledger, 200, 400);
      const checkpointDuringOutage = relay.stats().checkpoint;
      await new Promise((r) => setTimeout(r, 3_000));
      expect(relay.stats().checkpoint).toBe(checkpointDuringOutage); // nothing acknowledged, nothing checkpointed
      expect(checkpointDuringOutage).toBeLessThan(await ledger.store.headPosition());

      expect(relay.stats().failedSends).toBeGreaterThan(0);

      await broker.launch();
      await consume(ledger, 400, 500);
      head = await ledger.store.headPosition();
      await waitFor('the relay to catch up after the outage', () => relay!.stats().checkpoint === head, 120_000);

      const messages = await readTopicUntil(
        messaging,
        topic,
        (ms) => new Set(ms.map((m) => m.headers[EVENT_HEADERS.position])).size >= head,
        `${head} distinct positions`,
      );
      const duplicates = await expectRelayedInOrder(ledger, messages);
      process.stdout.write(`relay across a broker restart: ${head} events, ${duplicates} duplicates, ${relay.stats().failedSends} failed sends\n`);
    } finally {
      await relay?.stop();
      checkpoints.close();
      await ledger.close();
      await broker.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
