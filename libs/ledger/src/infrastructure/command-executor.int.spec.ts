import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError, DomainErrorCode, internalCaller, LedgerCommand, OpenAccountState } from '@credit-ledger/domain';
import { consume, open, T0 } from '@credit-ledger/domain/testing';
import { SqliteEventStore, WrongExpectedRevisionError } from '@credit-ledger/event-store';
import { AccountRepository, AccountSession, AccountView } from './account-repository';
import { Clock } from './clock';
import { CommandExecutor, ConcurrencyRetriesExhaustedError, MAX_APPEND_ATTEMPTS } from './command-executor';
import { accountStream } from './stream-names';

class FixedClock extends Clock {
  now(): Date {
    return new Date(T0);
  }
}

const caller = internalCaller('test', 'corr');
const emailUsed = (session: AccountView) => (session.state as OpenAccountState).creditTypes.email.figures.used;

describe('CommandExecutor', () => {
  let dataDir: string;
  let store: SqliteEventStore;
  let repository: AccountRepository;
  let executor: CommandExecutor;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'command-executor-'));
    store = SqliteEventStore.open(dataDir);
    repository = new AccountRepository(store);
    executor = new CommandExecutor(repository, new FixedClock());
    await consumeVia(executor, 'open-acme', open());
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function consumeVia(via: CommandExecutor, commandKey: string, command: LedgerCommand = consume(commandKey, 10)) {
    return via.decideOne('acme', caller, commandKey, (at) => ({ ...command, at }), emailUsed);
  }

  it('on a conflict catches up with the other writer and decides again', async () => {
    const rival = new CommandExecutor(new AccountRepository(store), new FixedClock());
    await consumeVia(rival, 'r1'); // our cached session does not know this one
    const outcome = await consumeVia(executor, 'c1');
    expect(outcome).toEqual({ status: 201, body: 20 });
    expect(executor.conflicts()).toBe(1);
    expect((await store.readStream(accountStream('acme'))).map((event) => event.metadata.causationId)).toEqual(['open-acme', 'r1', 'c1']);
  });

  it('gives up with ConcurrencyRetriesExhaustedError when every append conflicts', async () => {
    jest.spyOn(store, 'append').mockImplementation(async (streamId, expected) => {
      throw new WrongExpectedRevisionError(streamId, expected, expected + 1);
    });
    await expect(consumeVia(executor, 'c1')).rejects.toBeInstanceOf(ConcurrencyRetriesExhaustedError);
    expect(executor.conflicts()).toBe(MAX_APPEND_ATTEMPTS);
    expect(emailUsed(repository.cached('acme') as AccountSession)).toBe(0);
  });

  it('after a failed append the next command decides on the stored state, with the cache kept', async () => {
    const cached = repository.cached('acme');
    jest.spyOn(store, 'append').mockRejectedValueOnce(new Error('disk full'));
    await expect(consumeVia(executor, 'c1', consume('c1', 60))).rejects.toThrow('disk full');
    expect(repository.cached('acme')).toBe(cached);
    // 60 of the 100 credits would be gone had the failed decision stuck; c1 would be a duplicate.
    expect(await consumeVia(executor, 'c2', consume('c2', 60))).toEqual({ status: 201, body: 60 });
    expect(await consumeVia(executor, 'c1', consume('c1', 40))).toEqual({ status: 201, body: 100 });
    expect(executor.conflicts()).toBe(0);
  });

  it('a refusal leaves the state untouched and appends nothing', async () => {
    await consumeVia(executor, 'c1');
    const session = repository.cached('acme') as AccountSession;
    const before = { state: session.state, revision: session.revision };
    const refusal = consumeVia(executor, 'too-much', consume('too-much', 1_000));
    await expect(refusal).rejects.toBeInstanceOf(DomainError);
    await expect(refusal).rejects.toMatchObject({ code: DomainErrorCode.InsufficientCredits });
    expect(session.state).toBe(before.state);
    expect(session.revision).toBe(before.revision);
    expect(session.hasPending).toBe(false);
    expect(repository.cached('acme')).toBe(session);
  });

  it('a refusal after earlier decisions in the same work drops them too', async () => {
    const work = (session: AccountSession, at: string) => {
      session.decide('c1', { ...consume('c1', 10), at });
      session.decide('too-much', { ...consume('too-much', 1_000), at });
      return () => emailUsed(session);
    };
    await expect(executor.execute('acme', caller, work)).rejects.toBeInstanceOf(DomainError);
    const session = repository.cached('acme') as AccountSession;
    expect(emailUsed(session)).toBe(0);
    expect(session.hasPending).toBe(false);
    expect(await consumeVia(executor, 'c1')).toEqual({ status: 201, body: 10 });
  });
});
