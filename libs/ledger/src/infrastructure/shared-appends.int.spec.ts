import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError, DomainErrorCode, internalCaller, LedgerCommand, OpenAccountState } from '@credit-ledger/domain';
import { consume, open, T0 } from '@credit-ledger/domain/testing';
import { EventStore, PostgresEventStore, SqliteEventStore } from '@credit-ledger/event-store';
import { createTestDatabase, dropTestDatabase } from '@credit-ledger/event-store/testing';
import { AccountRepository, AccountSession, AccountView } from './account-repository';
import { Clock } from './clock';
import { CommandExecutor } from './command-executor';
import { accountStream } from './stream-names';

/**
 * A hot account's commands share appends: those that queue while the account's append commits are
 * decided in order on the state the previous one leaves, appended together, and settled only once
 * that append settled. These tests hold the account (a read that waits on a gate) so that the
 * commands are sure to queue, then let them go.
 */
class FixedClock extends Clock {
  now(): Date {
    return new Date(T0);
  }
}

const caller = internalCaller('test', 'corr');
/** The answer of a consumption: the email credits left after it, as its own decision left them. */
const remaining = (decided: AccountView) => {
  const email = (decided.state as OpenAccountState).creditTypes.email;
  return email.figures.allocated - email.figures.used;
};
const emailUsed = (session: AccountView) => (session.state as OpenAccountState).creditTypes.email.figures.used;

function consumeVia(executor: CommandExecutor, commandKey: string, command: LedgerCommand = consume(commandKey, 1)) {
  return executor.decideOne('acme', caller, commandKey, (at) => ({ ...command, at }), remaining);
}

/**
 * Holds the account's queue until `release()`: commands sent meanwhile all queue for one append.
 * `held` settles once the hold's read has caught the cached session up with the store: a rival's
 * append after it is one the cache cannot know.
 */
function holdAccount(executor: CommandExecutor): { release: () => void; held: Promise<void>; released: Promise<unknown> } {
  let release!: () => void;
  let markHeld!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = new Promise<void>((resolve) => (markHeld = resolve));
  const released = executor.read('acme', () => (markHeld(), gate));
  return { release, held, released };
}

async function storedCausations(store: EventStore): Promise<string[]> {
  // One command's events (a consumption and the thresholds it crossed) share its causation id.
  return [...new Set((await store.readStream(accountStream('acme'))).map((event) => event.metadata.causationId))];
}

interface Backend {
  readonly store: EventStore;
  cleanup(): Promise<void>;
}

async function sqliteBackend(): Promise<Backend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shared-appends-'));
  const store = SqliteEventStore.open(dataDir);
  return { store, cleanup: async () => (await store.close(), rmSync(dataDir, { recursive: true, force: true })) };
}

async function postgresBackend(): Promise<Backend> {
  const url = await createTestDatabase(undefined, 'shared_appends');
  const store = await PostgresEventStore.connect(url);
  return { store, cleanup: async () => (await store.close(), await dropTestDatabase(url)) };
}

describe.each([
  ['sqlite', sqliteBackend],
  ['postgres', postgresBackend],
])('shared appends of a hot account: %s', (_name, makeBackend) => {
  let backend: Backend;
  let executor: CommandExecutor;

  beforeEach(async () => {
    backend = await makeBackend();
    executor = new CommandExecutor(new AccountRepository(backend.store), new FixedClock());
    await consumeVia(executor, 'open-acme', open()); // email: 100 credits, deny
  });
  afterEach(() => backend.cleanup());

  it('200 concurrent consumptions of 1 credit on 100 credits: exactly 100 succeed, in few appends', async () => {
    const append = jest.spyOn(backend.store, 'append');
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, index) => consumeVia(executor, `c${index}`)));
    const accepted = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as DomainError] : []));
    expect(accepted).toHaveLength(100);
    expect(refused.map((error) => error.code)).toEqual(Array(100).fill(DomainErrorCode.InsufficientCredits));
    // Each answer is what its own decision left: 99, 98, ..., 0, each once.
    expect(accepted.map((outcome) => outcome.body).sort((left, right) => right - left)).toEqual(Array.from({ length: 100 }, (_, index) => 99 - index));
    const stored = await backend.store.readStream(accountStream('acme'));
    expect(stored.map((event) => event.revision)).toEqual(stored.map((_, index) => index));
    expect(stored.filter((event) => event.type === 'CreditConsumed')).toHaveLength(100);
    // The first command went alone; the 199 others queued behind it and shared appends.
    expect(append.mock.calls.length).toBeLessThan(10);
  });

  it('a refusal in the middle of a shared append drops only its own decision', async () => {
    const append = jest.spyOn(backend.store, 'append');
    const hold = holdAccount(executor);
    const first = consumeVia(executor, 'c1', consume('c1', 60));
    const tooMuch = consumeVia(executor, 'c2', consume('c2', 50)); // 40 left after c1
    const third = consumeVia(executor, 'c3', consume('c3', 40)); // decided on c1's state, not c2's
    const retryOfFirst = consumeVia(executor, 'c1', consume('c1', 60)); // a duplicate of a command in the same append
    hold.release();
    await expect(tooMuch).rejects.toMatchObject({ code: DomainErrorCode.InsufficientCredits });
    expect(await first).toEqual({ status: 201, body: 40 });
    expect(await third).toEqual({ status: 201, body: 0 });
    expect(await retryOfFirst).toEqual({ status: 200, body: 0 });
    expect(append).toHaveBeenCalledTimes(1);
    expect(await storedCausations(backend.store)).toEqual(['open-acme', 'c1', 'c3']);
  });

  it('a conflict decides the whole shared append again, refusals included, on the caught-up state', async () => {
    const rival = new CommandExecutor(new AccountRepository(backend.store), new FixedClock());
    const hold = holdAccount(executor);
    await hold.held; // else the hold's own catch-up may read r1 and there is no conflict to meet
    await consumeVia(rival, 'r1', consume('r1', 90)); // our cached session does not know this one
    const pending = ['c1', 'c2', 'c3'].map((key) => consumeVia(executor, key, consume(key, 10)));
    hold.release();
    const [first, ...others] = await Promise.allSettled(pending);
    expect(first).toEqual({ status: 'fulfilled', value: { status: 201, body: 0 } });
    expect(others.map((outcome) => outcome.status === 'rejected' && (outcome.reason as DomainError).code)).toEqual([
      DomainErrorCode.InsufficientCredits,
      DomainErrorCode.InsufficientCredits,
    ]);
    expect(executor.conflicts()).toBe(1);
  });
});

describe('shared appends of a hot account: a failed commit (SQLite writer thread)', () => {
  let dataDir: string;
  let store: SqliteEventStore;
  let repository: AccountRepository;
  let executor: CommandExecutor;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'shared-appends-failure-'));
    store = SqliteEventStore.open(dataDir, { faultInjection: true });
    repository = new AccountRepository(store);
    executor = new CommandExecutor(repository, new FixedClock());
    await consumeVia(executor, 'open-acme', open());
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('fails that command and every command decided on top of it, none acknowledged; later ones decide on the stored state', async () => {
    const hold = holdAccount(executor);
    // Five of 20 fit in 100 credits; the sixth is refused on top of them; all ride the one append.
    const shared = Array.from({ length: 6 }, (_, index) => consumeVia(executor, `c${index}`, consume(`c${index}`, 20)));
    let late: Promise<unknown> | undefined;
    const append = jest.spyOn(store, 'append');
    append.mockImplementationOnce((...args) => {
      // Arrives while the failing append commits: decided after it, on the stored state.
      late = consumeVia(executor, 'late', consume('late', 100));
      append.mockRestore();
      return store.append(...args);
    });
    store.injectCommitFailures(1);
    hold.release();
    const outcomes = await Promise.allSettled(shared);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      // The sixth's refusal was decided on top of the failed append: it fails with it too.
      expect(outcome.status === 'rejected' && outcome.reason).toMatchObject({ code: 'SQLITE_IOERR' });
    }
    expect(await late).toEqual({ status: 201, body: 0 });
    expect(await storedCausations(store)).toEqual(['open-acme', 'late']);
    const session = repository.cached('acme') as AccountSession;
    expect(session.hasPending).toBe(false);
    expect(emailUsed(session)).toBe(100);
  });

  it('after the failure the session is the stored state: nothing of the failed append leaks', async () => {
    const hold = holdAccount(executor);
    const shared = ['c1', 'c2'].map((key) => consumeVia(executor, key, consume(key, 50)));
    store.injectCommitFailures(1);
    hold.release();
    await Promise.allSettled(shared);
    // Had the failed decisions stuck, c1 would be a duplicate and nothing would be left.
    expect(await consumeVia(executor, 'c1', consume('c1', 70))).toEqual({ status: 201, body: 30 });
    expect(await storedCausations(store)).toEqual(['open-acme', 'c1']);
  });
});
