import { CaptureReservationData, Caller } from '@credit-ledger/domain';

export class CaptureReservationCommand {
  constructor(
    readonly accountId: string,
    readonly data: CaptureReservationData,
    readonly caller: Caller,
  ) {}
}
