import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountState, internalCaller, LedgerCommand } from '@credit-ledger/domain';
import { consume, grant, open, planOf, refund, T0 } from '@credit-ledger/domain/testing';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { AccountRepository, accountStream, Clock, CommandExecutor, decodeEvent } from '@credit-ledger/ledger';
import { AccountStates } from './account-states';

class SteppingClock extends Clock {
  private current = Date.parse(T0);
  now(): Date {
    this.current += 1_000;
    return new Date(this.current);
  }
}

/** What a state says, without the persistent index (whose internal layout depends on how it was reached). */
const comparable = (state: AccountState) => {
  if (state.status !== 'open') return state;
  const { index: _index, ...rest } = state;
  return rest;
};

describe('the dispatcher folds an account on from its cached state', () => {
  let dataDir: string;
  let store: SqliteEventStore;
  const EVENTS = 600;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'account-states-'));
    store = SqliteEventStore.open(dataDir);
    const executor = new CommandExecutor(new AccountRepository(store), new SteppingClock());
    const caller = internalCaller('test', 'corr');
    const decide = (key: string, command: (at: string) => LedgerCommand) => executor.decideOne('acme', caller, key, command, () => null).catch(() => undefined);
    await decide('open', (at) => open(at, planOf({ email: 100_000 })));
    for (let index = 0; index < EVENTS; index++) {
      if (index % 7 === 3) await decide(`r${index}`, (at) => refund(`r${index}`, `c${index - 1}`, 1, at));
      else if (index % 11 === 5) await decide(`g${index}`, (at) => grant(`g${index}`, 10, {}, at));
      else await decide(`c${index}`, (at) => consume(`c${index}`, 1 + (index % 5), {}, at));
    }
  }, 120_000);
  afterAll(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gives the state a full fold gives, whatever revision the cache stands at', async () => {
    const events = await store.readStream(accountStream('acme'), { limit: 10_000 });
    const states = new AccountStates(store);
    // Derive the first third as the dispatcher does: the cache stands at that revision.
    for (const recorded of events.slice(0, Math.floor(events.length / 3))) await states.around('acme', recorded, decodeEvent(recorded));
    const fresh = () => new AccountStates(store);
    expect(comparable(await states.current('acme'))).toEqual(comparable(await fresh().current('acme')));
    // A revision before the cached one: folded from the start.
    expect(comparable((await states.fold('acme', 10)).state)).toEqual(comparable((await fresh().fold('acme', 10)).state));
    // A revision after it, then the dispatcher goes on: the cached state was left as it was.
    expect(comparable((await states.fold('acme', events.length - 5)).state)).toEqual(comparable((await fresh().fold('acme', events.length - 5)).state));
    const next = events[Math.floor(events.length / 3)];
    const { before } = await states.around('acme', next, decodeEvent(next));
    expect(comparable(before)).toEqual(comparable((await fresh().fold('acme', next.revision - 1)).state));
  });
});
