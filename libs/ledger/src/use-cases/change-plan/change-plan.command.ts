import { Caller, ChangePlan } from '@credit-ledger/domain';

export class ChangePlanCommand {
  constructor(
    readonly accountId: string,
    readonly data: ChangePlan['data'],
    readonly caller: Caller,
  ) {}
}
