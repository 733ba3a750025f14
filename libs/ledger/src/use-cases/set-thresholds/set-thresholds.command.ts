import { Caller, Threshold } from '@credit-ledger/domain';

export class SetThresholdsCommand {
  constructor(
    readonly accountId: string,
    readonly creditTypes: Readonly<Record<string, readonly Threshold[]>>,
    readonly caller: Caller,
  ) {}
}
