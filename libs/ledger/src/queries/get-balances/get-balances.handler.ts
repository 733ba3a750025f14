import { Inject, OnModuleDestroy } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { DomainErrorCode, refuse } from '@credit-ledger/domain';
import { EventStore, SqliteEventStore } from '@credit-ledger/event-store';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { accountStream } from '../../infrastructure/stream-names';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { balancesWithForecastView } from '../../views/balances.view';
import { EVENT_STORE } from '../../tokens';
import { GetBalancesQuery } from './get-balances.query';
import { AsOfFoldAnswer, AsOfFoldThreads } from './as-of-fold-threads';
import { AsOfSnapshots, foldAsOf } from './as-of-snapshots';

/**
 * Balances of the current cycle: the fold of the account's events, caught up with the store.
 * With `asOf`: the fold of the events *recorded* at or before that instant — the balances as the
 * ledger stood then. A backdated event (occurredAt before recordedAt) therefore changes past
 * balances only from the moment it was recorded: asking again for an earlier instant gives the
 * same answer as before, which is what an auditor reconciling old statements needs. The fold
 * starts from a checkpointed snapshot (`as-of-snapshots.ts`). On SQLite it runs in fold threads
 * that read the file themselves (`as-of-fold-threads.ts`): neither the events nor their decoding
 * pass through the event loop. Elsewhere (or when a thread fails) it runs here, yielding to the
 * event loop between chunks.
 */
@QueryHandler(GetBalancesQuery)
export class GetBalancesHandler implements IQueryHandler<GetBalancesQuery>, OnModuleDestroy {
  private readonly snapshots = new AsOfSnapshots();
  /** Started at the first `asOf` request: most processes never get one. */
  private threads: AsOfFoldThreads | undefined;

  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  async execute(q: GetBalancesQuery) {
    if (q.asOf === undefined) {
      return this.executor.read(q.accountId, (session) => {
        if (session.state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
        return { ...balancesWithForecastView(session.state, this.clock.now().getTime()), revision: session.revision };
      });
    }
    const asOf = new Date(q.asOf).toISOString();
    const answer = (await this.foldInThread(q.accountId, asOf)) ?? (await this.foldHere(q.accountId, asOf));
    if (!answer.open) refuse(DomainErrorCode.AccountNotFound, `the account did not exist at ${asOf}`);
    return { ...answer.view, asOf, revision: answer.revision, position: answer.position };
  }

  async onModuleDestroy(): Promise<void> {
    await this.threads?.close();
  }

  private foldInThread(accountId: string, asOf: string): Promise<AsOfFoldAnswer | undefined> | undefined {
    if (!(this.store instanceof SqliteEventStore)) return undefined;
    this.threads ??= new AsOfFoldThreads(this.store.file);
    return this.threads.fold(accountId, asOf);
  }

  /** The same fold on the event loop, yielding to it between chunks: a long stream never stalls the writes. */
  private async foldHere(accountId: string, asOf: string): Promise<AsOfFoldAnswer> {
    const stream = accountStream(accountId);
    const readPage = (fromRevision: number, limit: number) => this.store.readStream(stream, { fromRevision, limit });
    const { state, revision, position } = await foldAsOf(this.snapshots, accountId, asOf, readPage, () => new Promise((resolve) => setImmediate(resolve)));
    if (state.status !== 'open') return { id: 0, open: false };
    // As the ledger stood then: the forecast is the one it would have given at asOf.
    return { id: 0, open: true, revision, position, view: balancesWithForecastView(state, Date.parse(asOf)) };
  }
}
