import { Caller } from '@credit-ledger/domain';

export class ResetCycleCommand {
  constructor(
    readonly accountId: string,
    readonly data: { readonly cycleId: string; readonly allocations?: Readonly<Record<string, number>> },
    readonly caller: Caller,
  ) {}
}
