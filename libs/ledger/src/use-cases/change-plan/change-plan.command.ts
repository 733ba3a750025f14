import { Caller, CreditTypePlan } from '@credit-ledger/domain';

export class ChangePlanCommand {
  constructor(
    readonly accountId: string,
    readonly data: { readonly planId: string; readonly creditTypes: Readonly<Record<string, CreditTypePlan>>; readonly effective?: 'now' | 'next_cycle' },
    readonly caller: Caller,
  ) {}
}
