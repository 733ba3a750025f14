import { Caller } from '@credit-ledger/domain';

export class ReleaseReservationCommand {
  constructor(
    readonly accountId: string,
    readonly reservationId: string,
    readonly reason: string | undefined,
    readonly caller: Caller,
  ) {}
}
