import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EVENT_HEADERS, MessagingAdmin, MessagingProducer, OutgoingMessage, usageMessageValue } from '@credit-ledger/messaging';
import { kafkaBrokers } from '../../support/kafka-broker';
import {
  createTestTopics,
  deleteTestTopics,
  expectRelayedInOrder,
  readTopicUntil,
  TestLedger,
  testMessaging,
  TestTopics,
  uniqueName,
  waitFor,
  waitForGroupCaughtUp,
} from '../../support/kafka-fixtures';
import { consumption, tempDataDir } from '../../support/ledger-harness';

jest.setTimeout(240_000);

const WORKER_ENTRY = join(__dirname, '../../../dist/apps/ledger-worker/src/main.js');
const ACCOUNTS = Array.from({ length: 12 }, (_, i) => `acct-${i}`);
const SENDS = 40;
const MESSAGES_PER_SEND = 100;
const ALLOCATION = 10_000_000;

/** A `ledger-worker` process (the real binary) on the shared data dir. */
class WorkerProcess {
  private readonly lines: Record<string, unknown>[] = [];
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.lines.push({ msg: line });
      }
    });
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
    this.exited = new Promise((r) => child.once('exit', () => r()));
  }

  static start(name: string, env: Record<string, string>): WorkerProcess {
    return new WorkerProcess(name, spawn(process.execPath, [WORKER_ENTRY], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Partition sets this worker was given, one per (re)join. */
  assignments(): number[][] {
    return this.lines.filter((l) => l.msg === 'usage ingestor joined the group').map((l) => l.partitions as number[]);
  }

  /** The ingestor's counters from the worker's last log line about them. */
  lastStats(): { applied: number; duplicates: number } | undefined {
    const line = [...this.lines].reverse().find((l) => l.msg === 'ledger worker stopped' || l.msg === 'ledger worker stats');
    return (line?.ingest as { applied: number; duplicates: number } | undefined) ?? undefined;
  }

  async waitForAssignment(count = 1): Promise<void> {
    await waitFor(`${this.name} to join the group`, () => this.assignments().length >= count, 60_000);
  }

  kill(): Promise<void> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

interface Sent {
  readonly accountId: string;
  readonly command: string;
  readonly credits: { readonly type: string; readonly delta: number; readonly field: 'used' | 'refunded' | 'granted' };
}

describe('scale-out: worker processes in one consumer group, against a real broker', () => {
  let admin: MessagingAdmin;
  let producer: MessagingProducer;
  let topics: TestTopics;
  const messaging = testMessaging();
  const dataDir = tempDataDir();
  const workers: WorkerProcess[] = [];
  let groupId: string | undefined;

  beforeAll(async () => {
    if (!existsSync(WORKER_ENTRY)) throw new Error(`${WORKER_ENTRY} is missing: run npm run build (npm test does it first)`);
    admin = await messaging.admin();
    topics = await createTestTopics(admin);
    producer = messaging.producer({ idempotent: true });
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await producer?.disconnect();
    if (topics) await deleteTestTopics(admin, topics);
    if (groupId) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin?.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('two workers share the partitions through rebalances and a crash: every command applied once, per-account order kept, balances = fold of events', async () => {
    const setup = await TestLedger.open(dataDir);
    for (const a of ACCOUNTS) await setup.openAccount(a, { email: ALLOCATION, mobile: ALLOCATION });
    await setup.close();

    const group = uniqueName('workers');
    groupId = group;
    const env = (relay: boolean): Record<string, string> => ({
      KAFKA_BROKERS: kafkaBrokers().join(','),
      LEDGER_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      WORKER_ROLES: relay ? 'ingest,relay' : 'ingest',
      KAFKA_USAGE_TOPIC: topics.usage,
      KAFKA_EVENTS_TOPIC: topics.events,
      KAFKA_GROUP_ID: group,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_MAX_IN_FLIGHT_MESSAGES: '500',
    });

    // The usage stream: per account a sequence of consumptions, refunds of earlier ones, grants,
    // and producer-side duplicates (the same message sent again).
    const sent: Sent[] = [];
    const orderByAccount = new Map<string, string[]>(ACCOUNTS.map((a) => [a, []]));
    const perAccountCount = new Map<string, number>();
    let duplicates = 0;
    const nextMessage = (n: number): OutgoingMessage => {
      const accountId = ACCOUNTS[n % ACCOUNTS.length];
      const k = perAccountCount.get(accountId) ?? 0;
      perAccountCount.set(accountId, k + 1);
      const mine = sent.filter((s) => s.accountId === accountId && s.command.startsWith('consume:'));
      let type: 'consume' | 'refund' | 'grant' = 'consume';
      let data: object;
      let s: Sent;
      if (k % 25 === 24 && mine.length > 0) {
        const target = mine[Math.floor(mine.length / 2)].command.slice('consume:'.length);
        const refundId = `${accountId}-r${k}`;
        type = 'refund';
        data = { refundId, consumptionId: target, credits: 1, reason: 'bounced' };
        s = { accountId, command: `refund:${refundId}`, credits: { type: 'email', delta: 1, field: 'refunded' } };
      } else if (k % 40 === 39) {
        const grantId = `${accountId}-g${k}`;
        type = 'grant';
        data = { grantId, creditType: 'mobile', credits: 7, reason: 'promo' };
        s = { accountId, command: `grant:${grantId}`, credits: { type: 'mobile', delta: 7, field: 'granted' } };
      } else {
        const consumptionId = `${accountId}-c${k}`;
        data = consumption(consumptionId, { creditType: 'email', credits: 2 });
        s = { accountId, command: `consume:${consumptionId}`, credits: { type: 'email', delta: 2, field: 'used' } };
      }
      sent.push(s);
      orderByAccount.get(accountId)!.push(s.command);
      return { key: accountId, value: usageMessageValue(type, accountId, data) };
    };
    const history: OutgoingMessage[] = [];

    const first = WorkerProcess.start('worker-1', env(true));
    workers.push(first);
    await first.waitForAssignment();
    let second: WorkerProcess | undefined;
    let restarted: WorkerProcess | undefined;
    for (let b = 0; b < SENDS; b++) {
      const batch: OutgoingMessage[] = [];
      for (let i = 0; i < MESSAGES_PER_SEND; i++) {
        const n = b * MESSAGES_PER_SEND + i;
        if (n % 30 === 29 && history.length > 0) {
          batch.push(history[Math.floor(history.length * 0.9)]); // a recent message again
          duplicates++;
        } else {
          const m = nextMessage(n);
          history.push(m);
          batch.push(m);
        }
      }
      await producer.send(topics.usage, batch);
      if (b === Math.floor(SENDS / 3)) {
        second = WorkerProcess.start('worker-2', env(false)); // joins: the group rebalances mid-stream
        workers.push(second);
      }
      if (b === Math.floor((2 * SENDS) / 3)) {
        await second!.waitForAssignment();
        await first.kill(); // a crash: its uncommitted messages are redelivered to the others
        restarted = WorkerProcess.start('worker-1-restarted', env(true));
        workers.push(restarted);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitForGroupCaughtUp(admin, group, topics.usage, 120_000);
    await restarted!.waitForAssignment();

    // Both live workers owned partitions at some point, and the second saw more than one assignment.
    expect(first.assignments().length).toBeGreaterThanOrEqual(1);
    expect(second!.assignments().some((p) => p.length > 0)).toBe(true);
    expect(second!.assignments().length).toBeGreaterThanOrEqual(2);

    const ledger = await TestLedger.open(dataDir);
    try {
      const events = await ledger.allEvents();
      // The relay (worker-1, then its restart) published every committed event, in order per account.
      const head = events[events.length - 1].position;
      await waitFor(
        'the relay to publish every event',
        async () => {
          const relayed = await admin.endOffsets(topics.events);
          return relayed.reduce((n, o) => n + Number(o.offset), 0) >= events.length;
        },
        60_000,
      );
      await Promise.all(workers.map((w) => w.stop()));

      // Exactly once in effect: one event per command, whatever was redelivered or sent twice.
      const commands = events.filter((e) => e.type !== 'AccountOpened').map((e) => e.metadata.causationId);
      expect(commands).toHaveLength(new Set(commands).size);
      expect(new Set(commands)).toEqual(new Set(sent.map((s) => s.command)));
      expect(duplicates).toBeGreaterThan(0);

      // Per-account order: the account's stream holds the commands in the order they were produced.
      for (const accountId of ACCOUNTS) {
        const stored = events
          .filter((e) => e.streamId === `account-${accountId.replace(/-/g, '~')}` && e.type !== 'AccountOpened')
          .map((e) => e.metadata.causationId);
        expect(stored).toEqual(orderByAccount.get(accountId));
      }

      // Balances: the view equals the fold of the events, and what the messages asked for.
      for (const accountId of ACCOUNTS) {
        const folded: Record<string, { used: number; refunded: number; granted: number }> = {
          email: { used: 0, refunded: 0, granted: 0 },
          mobile: { used: 0, refunded: 0, granted: 0 },
        };
        for (const e of events.filter((x) => x.streamId === `account-${accountId.replace(/-/g, '~')}`)) {
          const d = e.data as { creditType: string; creditsCharged?: number; credits?: number };
          if (e.type === 'CreditConsumed') folded[d.creditType].used += d.creditsCharged!;
          if (e.type === 'CreditRefunded') folded[d.creditType].refunded += d.credits!;
          if (e.type === 'CreditsGranted') folded[d.creditType].granted += d.credits!;
        }
        const asked: Record<string, { used: number; refunded: number; granted: number }> = {
          email: { used: 0, refunded: 0, granted: 0 },
          mobile: { used: 0, refunded: 0, granted: 0 },
        };
        for (const s of sent.filter((x) => x.accountId === accountId)) asked[s.credits.type][s.credits.field] += s.credits.delta;
        const { balances } = await ledger.balances(accountId);
        for (const b of balances) {
          expect({ used: b.used, refunded: b.refunded, granted: b.granted }).toEqual(folded[b.creditType]);
          expect(folded[b.creditType]).toEqual(asked[b.creditType]);
          expect(b.remaining).toBe(ALLOCATION + b.granted - b.used + b.refunded - b.expired);
        }
      }

      const relayed = await readTopicUntil(
        messaging,
        topics.events,
        (ms) => new Set(ms.map((m) => m.headers[EVENT_HEADERS.position])).size >= head,
        `${head} distinct positions`,
      );
      const relayDuplicates = await expectRelayedInOrder(ledger, relayed);
      process.stdout.write(
        `scale-out: ${sent.length + duplicates} usage messages (${duplicates} sent twice), ${events.length} events; assignments ` +
          `${workers.map((w) => `${w.name}=${JSON.stringify(w.assignments())}`).join(' ')}; ingest counters at stop ` +
          `${workers.map((w) => `${w.name}=${JSON.stringify(w.lastStats() ?? 'killed')}`).join(' ')}; relay duplicates after the crash: ${relayDuplicates}\n`,
      );
    } finally {
      await ledger.close();
    }
  });
});
