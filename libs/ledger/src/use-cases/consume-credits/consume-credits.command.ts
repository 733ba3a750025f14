import { Caller, ConsumeCreditsData } from '@credit-ledger/domain';

export class ConsumeCreditsCommand {
  constructor(
    readonly accountId: string,
    readonly data: ConsumeCreditsData,
    readonly caller: Caller,
  ) {}
}
