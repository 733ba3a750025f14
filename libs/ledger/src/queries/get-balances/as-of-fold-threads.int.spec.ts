import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internalCaller, LedgerCommand } from '@credit-ledger/domain';
import { capture, consume, grant, open, planOf, refund, release, reserve, reset, T0 } from '@credit-ledger/domain/testing';
import { EventStore, SqliteEventStore } from '@credit-ledger/event-store';
import { AccountRepository } from '../../infrastructure/account-repository';
import { Clock } from '../../infrastructure/clock';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { AsOfFoldThreads } from './as-of-fold-threads';
import { GetBalancesHandler } from './get-balances.handler';
import { GetBalancesQuery } from './get-balances.query';

/** Each command is recorded one second after the previous one. */
class SteppingClock extends Clock {
  private current = Date.parse(T0);
  now(): Date {
    this.current += 1_000;
    return new Date(this.current);
  }
}

/** A small seeded generator (mulberry32): a failing history can be replayed from its seed. */
function randomOf(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random commands of every kind that moves balances; some are refused (no credits, unknown ids), as in life. */
function randomCommand(random: () => number, index: number, at: string): LedgerCommand {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const creditType = pick(['email', 'mobile']);
  const earlier = Math.floor(random() * Math.max(1, index));
  const roll = random();
  if (roll < 0.5)
    return consume(`c${index}`, 1 + Math.floor(random() * 20), { creditType, userId: pick(['ana', 'bo', 'cy']), feature: pick(['f1', 'f2']) }, at);
  if (roll < 0.6) return refund(`r${index}`, `c${earlier}`, random() < 0.5 ? undefined : 1, at);
  if (roll < 0.68) return grant(`g${index}`, 1 + Math.floor(random() * 100), { creditType }, at);
  if (roll < 0.8) return reserve(`h${index}`, 1 + Math.floor(random() * 30), { creditType }, at);
  if (roll < 0.9) return capture(`h${earlier}`, `hc${index}`, random() < 0.5 ? undefined : 1, at);
  if (roll < 0.97) return release(`h${earlier}`, 'done', at);
  return reset(`cycle${index}`, at);
}

describe('balances asOf in fold threads against the fold on the event loop, random histories', () => {
  const HISTORIES = [
    { accountId: 'small', seed: 11, commands: 150 },
    { accountId: 'across-snapshots', seed: 29, commands: 1_300 },
    { accountId: 'long', seed: 47, commands: 2_400 },
  ];
  let dataDir: string;
  let store: SqliteEventStore;
  let inThreads: GetBalancesHandler;
  let onLoop: GetBalancesHandler;
  const clock = new SteppingClock();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'balances-as-of-threads-'));
    store = SqliteEventStore.open(dataDir);
    const executor = new CommandExecutor(new AccountRepository(store), clock);
    const caller = internalCaller('test', 'corr');
    for (const { accountId, seed, commands } of HISTORIES) {
      const random = randomOf(seed);
      await executor.decideOne(
        accountId,
        caller,
        'open',
        (at) => ({ ...open(at, planOf({ email: 5_000, mobile: 500 })), at }),
        () => null,
      );
      // Batches in flight at once: they share appends, as concurrent requests do.
      for (let first = 0; first < commands; first += 50) {
        const batch = Array.from({ length: Math.min(50, commands - first) }, (_, offset) => first + offset);
        await Promise.all(
          batch.map((index) =>
            executor
              .decideOne(
                accountId,
                caller,
                `k${index}`,
                (at) => randomCommand(random, index, at),
                () => null,
              )
              .catch(() => undefined),
          ),
        );
      }
    }
    inThreads = new GetBalancesHandler(executor, store, clock);
    // The same store behind a port that is not SqliteEventStore: the fold runs on the event loop.
    const plain = { readStream: (streamId, options) => store.readStream(streamId, options) } as Pick<EventStore, 'readStream'> as EventStore;
    onLoop = new GetBalancesHandler(executor, plain, clock);
  }, 120_000);

  afterAll(async () => {
    await inThreads.onModuleDestroy();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(HISTORIES)(
    'gives the same answers for $accountId at random instants, before, across and after its history',
    async ({ accountId, seed, commands }) => {
      const random = randomOf(seed * 7);
      const span = (commands + 10) * 1_000;
      const instants = Array.from({ length: 40 }, () => new Date(Date.parse(T0) - 5_000 + Math.floor(random() * (span + 3_600_000))).toISOString());
      for (const asOf of instants) {
        const [threaded, looped] = await Promise.all([
          inThreads.execute(new GetBalancesQuery(accountId, asOf)).catch((error: unknown) => ({ refused: String(error) })),
          onLoop.execute(new GetBalancesQuery(accountId, asOf)).catch((error: unknown) => ({ refused: String(error) })),
        ]);
        expect({ asOf, answer: threaded }).toEqual({ asOf, answer: looped });
      }
    },
  );

  it('answers an unknown account as not found, as the fold on the event loop does', async () => {
    const asOf = new Date(Date.parse(T0) + 60_000).toISOString();
    const refusal = (handler: GetBalancesHandler) => handler.execute(new GetBalancesQuery('nobody', asOf)).catch((error: unknown) => error);
    const [threaded, looped] = await Promise.all([refusal(inThreads), refusal(onLoop)]);
    expect(threaded).toEqual(looped);
    expect(String(threaded)).toContain('did not exist');
  });

  it('histories hold every kind of movement', async () => {
    const types = new Set((await store.readStream('account-long', { limit: 10_000 })).map((event) => event.type));
    const movements = ['CreditConsumed', 'CreditRefunded', 'CreditsGranted', 'CreditsReserved', 'ReservationCaptured', 'ReservationReleased', 'CycleReset'];
    expect([...types]).toEqual(expect.arrayContaining(movements));
  });

  it('answers in the thread, and nothing once its threads are closed (the caller then folds on the event loop)', async () => {
    const threads = new AsOfFoldThreads(store.file, 1);
    await expect(threads.fold('long', new Date().toISOString())).resolves.toMatchObject({ open: true });
    await threads.close();
    await expect(threads.fold('long', T0)).resolves.toBeUndefined();
  });

  it('idle threads do not keep the process alive (a CLI or a bench run ends when its work does)', async () => {
    const ports = () => process.getActiveResourcesInfo().filter((resource) => resource === 'MessagePort').length;
    const before = ports();
    const threads = new AsOfFoldThreads(store.file, 2);
    await threads.fold('long', new Date().toISOString());
    expect(ports()).toBe(before);
    await threads.close();
  });
});
