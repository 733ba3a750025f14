import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountState, LedgerEvent, ledgerDecider, OpenAccountState } from '@credit-ledger/domain';
import { consume, open, planOf, T0 } from '@credit-ledger/domain/testing';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { AccountRepository, FOLD_CHUNK_EVENTS, MAX_CACHED_ACCOUNTS } from './account-repository';
import { accountStream } from './stream-names';

const ctx = { actor: 'test', correlationId: 'corr', recordedAt: T0 };
const openNamed = (accountId: string) => ({ ...open(), data: { ...open().data, accountId } });

describe('AccountRepository', () => {
  let dataDir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'account-repository-'));
    store = SqliteEventStore.open(dataDir);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Opens `accountId` and consumes `consumptions` credits one by one, through a repository of its own. */
  async function write(accountId: string, consumptions: string[] = []): Promise<void> {
    const writer = new AccountRepository(store);
    const session = await writer.load(accountId, true);
    if (session.state.status !== 'open') session.decide(`open-${accountId}`, openNamed(accountId));
    for (const id of consumptions) session.decide(id, consume(id, 1));
    await writer.commit(session, ctx);
  }

  it('loads an account by folding its stream, and does not cache accounts that do not exist', async () => {
    await write('acme', ['c1', 'c2']);
    const repository = new AccountRepository(store);
    const session = await repository.load('acme', false);
    expect(session.revision).toBe(2);
    expect((session.state as OpenAccountState).creditTypes.email.figures.used).toBe(2);
    expect(repository.cached('acme')).toBe(session);
    const missing = await repository.load('nobody', true);
    expect(missing.state.status).toBe('none');
    expect(repository.cached('nobody')).toBeUndefined();
  });

  it('catches a cached session up with what other writers appended, reading only the new events', async () => {
    await write('acme', ['c1']);
    const repository = new AccountRepository(store);
    const session = await repository.load('acme', false);
    await write('acme', ['c2', 'c3']);
    expect(await repository.load('acme', false)).toBe(session); // trusted as is
    expect(session.revision).toBe(1);
    const reads = jest.spyOn(store, 'readStream');
    const fresh = await repository.load('acme', true);
    expect(fresh).toBe(session);
    expect(reads).toHaveBeenCalledWith(accountStream('acme'), expect.objectContaining({ fromRevision: 2 }));
    expect(fresh.revision).toBe(3);
    expect((fresh.state as OpenAccountState).creditTypes.email.figures.used).toBe(3);
  });

  it("folds a large account's stream in chunks, letting other work run between them, to the same state", async () => {
    const writer = new AccountRepository(store);
    const session = await writer.load('big', true);
    session.decide('open-big', { ...openNamed('big'), data: { ...openNamed('big').data, plan: planOf({ email: 10_000 }) } });
    for (let index = 0; index < 5 * FOLD_CHUNK_EVENTS; index++) session.decide(`c${index}`, consume(`c${index}`, 1));
    await writer.commit(session, ctx);

    // Events folded between two turns of the event loop, counted by a decider that counts evolve calls.
    let evolved = 0;
    const counting = { ...ledgerDecider, evolve: (state: AccountState, event: LedgerEvent) => (evolved++, ledgerDecider.evolve(state, event)) };
    let loaded = false;
    const load = new AccountRepository(store, MAX_CACHED_ACCOUNTS, counting).load('big', true).finally(() => (loaded = true));
    let atLastTurn = 0;
    let longestStretch = 0;
    const turn = () => {
      longestStretch = Math.max(longestStretch, evolved - atLastTurn);
      atLastTurn = evolved;
      if (!loaded) setImmediate(turn);
    };
    setImmediate(turn);
    const folded = await load;
    turn();
    expect(evolved).toBe(session.revision + 1);
    expect(longestStretch).toBeLessThanOrEqual(FOLD_CHUNK_EVENTS);
    expect(folded.revision).toBe(session.revision);
    expect((folded.state as OpenAccountState).creditTypes.email.figures).toEqual((session.state as OpenAccountState).creditTypes.email.figures);
  });

  it('keeps at most maxCached sessions, dropping the least recently used', async () => {
    for (const accountId of ['a', 'b', 'c']) await write(accountId);
    const repository = new AccountRepository(store, 2);
    await repository.load('a', false);
    await repository.load('b', false);
    repository.cached('a'); // a is now the most recently used
    await repository.load('c', false);
    expect(repository.cached('b')).toBeUndefined();
    expect(repository.cached('a')).toBeDefined();
    expect(repository.cached('c')).toBeDefined();
  });

  it('commits pending decisions with their positions, and remembers the session', async () => {
    const repository = new AccountRepository(store);
    const session = await repository.load('acme', true);
    session.decide('open-acme', open());
    session.decide('c1', consume('c1', 5));
    session.decide('c2', consume('c2', 5));
    expect(session.hasPending).toBe(true);
    await repository.commit(session, ctx);
    expect(session.hasPending).toBe(false);
    expect(session.revision).toBe(2);
    const recorded = await store.readStream(accountStream('acme'));
    for (const commandKey of ['open-acme', 'c1', 'c2']) {
      const last = recorded.filter((event) => event.metadata.causationId === commandKey).pop();
      expect(session.positionOf(commandKey)).toBe(last?.position);
    }
    expect(session.positionOf('unknown')).toBe(0);
    expect(repository.cached('acme')).toBe(session);
  });

  it('rolls a session back to the stored state when an append fails', async () => {
    await write('acme');
    const repository = new AccountRepository(store);
    const session = await repository.load('acme', false);
    const stored = session.state;
    session.decide('c1', consume('c1', 5));
    jest.spyOn(store, 'append').mockRejectedValueOnce(new Error('disk full'));
    await expect(repository.commit(session, ctx)).rejects.toThrow('disk full');
    expect(session.state).toBe(stored);
    expect(session.hasPending).toBe(false);
    expect(session.revision).toBe(0);
    expect(repository.cached('acme')).toBe(session);
  });

  it('evict drops a session: the next load reads the stream again', async () => {
    await write('acme', ['c1']);
    const repository = new AccountRepository(store);
    const first = await repository.load('acme', false);
    repository.evict('acme');
    expect(repository.cached('acme')).toBeUndefined();
    const second = await repository.load('acme', false);
    expect(second).not.toBe(first);
    expect(second.revision).toBe(first.revision);
  });
});
