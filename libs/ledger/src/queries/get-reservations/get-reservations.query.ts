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
