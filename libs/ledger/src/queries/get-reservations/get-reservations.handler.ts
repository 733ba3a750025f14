import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AccountState, DomainErrorCode, OpenAccountState, refuse, ReservationRecord, stateAt } from '@credit-ledger/domain';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { reservationView } from '../../views/reservations.view';
import { GetReservationQuery, GetReservationsQuery, UnknownCursorError } from './get-reservations.query';

/** The account as of now: a reservation past its expiry reads as expired (it holds nothing), even before its expiry is written. */
function currentState(state: AccountState, at: string): OpenAccountState {
  if (state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
  return stateAt(state, at);
}

export function reservationsCursor(reservationId: string): string {
  return Buffer.from(reservationId, 'utf8').toString('base64url');
}

@QueryHandler(GetReservationsQuery)
export class GetReservationsHandler implements IQueryHandler<GetReservationsQuery> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: GetReservationsQuery) {
    const at = this.clock.now().toISOString();
    return this.executor.read(q.accountId, (session) => {
      const state = currentState(session.state, at);
      const matching: ReservationRecord[] = [];
      for (const record of state.index.reservations.values()) {
        if ((q.status === undefined || record.status === q.status) && (q.userId === undefined || record.userId === q.userId)) matching.push(record);
      }
      matching.reverse(); // newest first
      let start = 0;
      if (q.after !== undefined) {
        start = matching.findIndex((record) => record.reservationId === q.after) + 1;
        if (start === 0) throw new UnknownCursorError();
      }
      const page = matching.slice(start, start + q.limit);
      const more = matching.length > start + q.limit;
      return {
        accountId: state.accountId,
        items: page.map(reservationView),
        nextCursor: more ? reservationsCursor(page[page.length - 1].reservationId) : null,
      };
    });
  }
}

@QueryHandler(GetReservationQuery)
export class GetReservationHandler implements IQueryHandler<GetReservationQuery> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: GetReservationQuery) {
    const at = this.clock.now().toISOString();
    return this.executor.read(q.accountId, (session) => {
      const state = currentState(session.state, at);
      const record = state.index.reservations.get(q.reservationId);
      if (!record || (q.userId !== undefined && record.userId !== q.userId)) {
        refuse(DomainErrorCode.ReservationNotFound, `reservation ${q.reservationId} does not exist in this account`, { reservationId: q.reservationId });
      }
      return { accountId: state.accountId, ...reservationView(record) };
    });
  }
}
