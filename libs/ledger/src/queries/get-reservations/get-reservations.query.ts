import { ReservationStatus } from '@credit-ledger/domain';

/** One page of the account's reservations, newest first, after the reservation `after`. */
export class GetReservationsQuery {
  constructor(
    readonly accountId: string,
    readonly limit: number,
    readonly status?: ReservationStatus,
    readonly userId?: string,
    readonly after?: string,
  ) {}
}

/** One reservation; `userId`: a member key's own (another member's is not found). */
export class GetReservationQuery {
  constructor(
    readonly accountId: string,
    readonly reservationId: string,
    readonly userId?: string,
  ) {}
}

/** A cursor naming no reservation of this listing (another account or other filters): the controller answers 400. */
export class UnknownCursorError extends Error {
  constructor() {
    super('is not a cursor this endpoint gave for these filters');
  }
}
