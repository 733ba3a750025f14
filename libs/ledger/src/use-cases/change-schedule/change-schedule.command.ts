import { Caller, CycleSchedule } from '@credit-ledger/domain';

export class ChangeScheduleCommand {
  constructor(
    readonly accountId: string,
    readonly schedule: CycleSchedule,
    readonly caller: Caller,
  ) {}
}
