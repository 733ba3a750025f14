import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { DomainErrorCode, refuse } from '@credit-ledger/domain';
import { EventStore, NO_STREAM } from '@credit-ledger/event-store';
import { accountStream } from '../../infrastructure/stream-names';
import { EVENT_STORE } from '../../tokens';
import { GetAccountEventsQuery } from './get-account-events.query';

/** The audit trail: the account's events exactly as stored (no upcasting), in order. */
@QueryHandler(GetAccountEventsQuery)
export class GetAccountEventsHandler implements IQueryHandler<GetAccountEventsQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(q: GetAccountEventsQuery) {
    const stream = accountStream(q.accountId);
    const events = await this.store.readStream(stream, { afterPosition: q.after, limit: q.limit });
    if (events.length === 0 && (await this.store.readStream(stream, { limit: 1 })).length === 0) {
      refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
    }
    return {
      accountId: q.accountId,
      items: events.map((e) => ({
        position: e.position,
        revision: e.revision,
        eventId: e.eventId,
        type: e.type,
        data: e.data,
        metadata: e.metadata,
      })),
      nextAfter: events.length === q.limit ? events[events.length - 1].position : null,
      streamRevision: events.length ? events[events.length - 1].revision : NO_STREAM,
    };
  }
}
