import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evolve, initialState, internalCaller, OpenAccountState } from '@credit-ledger/domain';
import { consume, open, planOf, T0 } from '@credit-ledger/domain/testing';
import { EventStore, SqliteEventStore } from '@credit-ledger/event-store';
import { AccountRepository } from '../../infrastructure/account-repository';
import { Clock } from '../../infrastructure/clock';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { decodeEvent } from '../../infrastructure/event-codec';
import { accountStream } from '../../infrastructure/stream-names';
import { balancesWithForecastView } from '../../views/balances.view';
import { AS_OF_SNAPSHOT_INTERVAL_EVENTS } from './as-of-snapshots';
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

const EVENTS = 2 * AS_OF_SNAPSHOT_INTERVAL_EVENTS + 500;
const instant = (second: number) => new Date(Date.parse(T0) + second * 1_000).toISOString();

describe('GET balances asOf from checkpointed snapshots', () => {
  let dataDir: string;
  let store: SqliteEventStore;
  let handler: GetBalancesHandler;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'balances-as-of-'));
    store = SqliteEventStore.open(dataDir);
    const executor = new CommandExecutor(new AccountRepository(store), new SteppingClock());
    const caller = internalCaller('test', 'corr');
    const decide = (key: string, command: ReturnType<typeof consume> | ReturnType<typeof open>) =>
      executor.decideOne(
        'acme',
        caller,
        key,
        (at) => ({ ...command, at }),
        () => null,
      );
    await decide('open', open(T0, planOf({ email: 1_000_000 })));
    // Shared appends: the consumptions queue and go in a few appends, each with its own recordedAt.
    await Promise.all(Array.from({ length: EVENTS }, (_, index) => decide(`c${index}`, consume(`c${index}`, 1))));
    handler = new GetBalancesHandler(executor, store, new SteppingClock());
  }, 60_000);
  afterAll(async () => {
    await handler.onModuleDestroy();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The reference: a plain fold of every event recorded at or before `asOf`. */
  async function fullFold(asOf: string) {
    let state = initialState();
    let revision = -1;
    for (const event of await store.readStream(accountStream('acme'), { limit: 10_000 })) {
      if (event.metadata.recordedAt > asOf) break;
      state = evolve(state, decodeEvent(event));
      revision = event.revision;
    }
    return { balances: balancesWithForecastView(state as OpenAccountState, Date.parse(asOf)).balances, revision };
  }

  it('answers exactly the full fold, whichever snapshots earlier requests left', async () => {
    // The latest first (it leaves snapshots), then instants before, on and after snapshot boundaries.
    const seconds = [EVENTS + 10, 3, AS_OF_SNAPSHOT_INTERVAL_EVENTS, AS_OF_SNAPSHOT_INTERVAL_EVENTS + 1, 2 * AS_OF_SNAPSHOT_INTERVAL_EVENTS + 7, 1_500, EVENTS];
    for (const second of seconds) {
      const asOf = instant(second);
      const answer = await handler.execute(new GetBalancesQuery('acme', asOf));
      const expected = await fullFold(asOf);
      expect({ second, balances: answer.balances, revision: answer.revision }).toEqual({ second, ...expected });
    }
  });

  it('folds only the events after the nearest snapshot', async () => {
    // On the event loop (a store that is not SQLite's: no fold threads), where the reads can be watched.
    const plain = { readStream: (streamId, options) => store.readStream(streamId, options) } as Pick<EventStore, 'readStream'> as EventStore;
    const onLoop = new GetBalancesHandler(new CommandExecutor(new AccountRepository(store), new SteppingClock()), plain, new SteppingClock());
    await onLoop.execute(new GetBalancesQuery('acme', instant(EVENTS + 10)));
    const reads = jest.spyOn(plain, 'readStream');
    await onLoop.execute(new GetBalancesQuery('acme', instant(EVENTS + 10)));
    expect(reads.mock.calls[0][1]).toMatchObject({ fromRevision: 2 * AS_OF_SNAPSHOT_INTERVAL_EVENTS });
    reads.mockRestore();
  });
});
