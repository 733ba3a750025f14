import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AccountState, DomainErrorCode, evolve, initialState, refuse } from '@credit-ledger/domain';
import { EventStore, MAX_READ_PAGE_SIZE } from '@credit-ledger/event-store';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { decodeEvent } from '../../infrastructure/event-codec';
import { accountStream } from '../../infrastructure/stream-names';
import { balancesView } from '../../views/balances.view';
import { EVENT_STORE } from '../../tokens';
import { GetBalancesQuery } from './get-balances.query';

/**
 * Balances of the current cycle: the fold of the account's events, caught up with the store.
 * With `asOf`: the fold of the events *recorded* at or before that instant — the balances as the
 * ledger stood then. A backdated event (occurredAt before recordedAt) therefore changes past
 * balances only from the moment it was recorded: asking again for an earlier instant gives the
 * same answer as before, which is what an auditor reconciling old statements needs.
 */
@QueryHandler(GetBalancesQuery)
export class GetBalancesHandler implements IQueryHandler<GetBalancesQuery> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute(q: GetBalancesQuery) {
    if (q.asOf === undefined) {
      return this.executor.read(q.accountId, (session) => {
        if (session.state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
        return { ...balancesView(session.state), revision: session.revision };
      });
    }
    const asOf = new Date(q.asOf).toISOString();
    let state: AccountState = initialState();
    let revision = -1;
    let position = 0;
    for (let from = 0; ; from += MAX_READ_PAGE_SIZE) {
      const page = await this.store.readStream(accountStream(q.accountId), { fromRevision: from, limit: MAX_READ_PAGE_SIZE });
      const cut = page.findIndex((e) => e.metadata.recordedAt > asOf);
      for (const e of cut === -1 ? page : page.slice(0, cut)) {
        state = evolve(state, decodeEvent(e));
        revision = e.revision;
        position = e.position;
      }
      if (cut !== -1 || page.length < MAX_READ_PAGE_SIZE) break;
      // A long history is folded page by page, letting other requests run in between.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, `the account did not exist at ${asOf}`);
    return { ...balancesView(state), asOf, revision, position };
  }
}
