import { Caller, Plan } from '@credit-ledger/domain';

export class OpenAccountCommand {
  constructor(
    readonly accountId: string,
    readonly name: string,
    readonly plan: Plan,
    readonly caller: Caller,
  ) {}
}
