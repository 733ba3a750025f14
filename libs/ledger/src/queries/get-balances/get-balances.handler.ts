import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { DomainErrorCode, evolve, initialState, refuse } from '@credit-ledger/domain';
import { EventStore } from '@credit-ledger/event-store';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { decodeEvent } from '../../infrastructure/event-codec';
import { accountStream } from '../../infrastructure/stream-names';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { balancesWithForecastView } from '../../views/balances.view';
import { EVENT_STORE } from '../../tokens';
import { GetBalancesQuery } from './get-balances.query';
import { AS_OF_FOLD_CHUNK_EVENTS, AS_OF_SNAPSHOT_INTERVAL_EVENTS, AsOfSnapshots, FoldSnapshot } from './as-of-snapshots';

/**
 * Balances of the current cycle: the fold of the account's events, caught up with the store.
 * With `asOf`: the fold of the events *recorded* at or before that instant — the balances as the
 * ledger stood then. A backdated event (occurredAt before recordedAt) therefore changes past
 * balances only from the moment it was recorded: asking again for an earlier instant gives the
 * same answer as before, which is what an auditor reconciling old statements needs. The fold
 * starts from a checkpointed snapshot (`as-of-snapshots.ts`) and yields between chunks.
 */
@QueryHandler(GetBalancesQuery)
export class GetBalancesHandler implements IQueryHandler<GetBalancesQuery> {
  private readonly snapshots = new AsOfSnapshots();

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
    const { state, revision, position } = await this.foldAsOf(q.accountId, asOf);
    if (state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, `the account did not exist at ${asOf}`);
    // As the ledger stood then: the forecast is the one it would have given at asOf.
    return { ...balancesWithForecastView(state, Date.parse(asOf)), asOf, revision, position };
  }

  /**
   * The fold of the events recorded at or before `asOf`, from the nearest checkpointed snapshot, in
   * chunks with a yield to the event loop between them: a long stream never stalls the writes.
   */
  private async foldAsOf(accountId: string, asOf: string): Promise<FoldSnapshot> {
    let fold: FoldSnapshot = this.snapshots.usable(accountId, asOf) ?? { state: initialState(), revision: -1, position: 0, maxRecordedAt: '' };
    for (;;) {
      const page = await this.store.readStream(accountStream(accountId), { fromRevision: fold.revision + 1, limit: AS_OF_FOLD_CHUNK_EVENTS });
      let { state, maxRecordedAt } = fold;
      for (const event of page) {
        if (event.metadata.recordedAt > asOf) return fold;
        state = evolve(state, decodeEvent(event));
        if (event.metadata.recordedAt > maxRecordedAt) maxRecordedAt = event.metadata.recordedAt;
        fold = { state, revision: event.revision, position: event.position, maxRecordedAt };
        if ((event.revision + 1) % AS_OF_SNAPSHOT_INTERVAL_EVENTS === 0) this.snapshots.record(accountId, fold);
      }
      if (page.length < AS_OF_FOLD_CHUNK_EVENTS) return fold;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
