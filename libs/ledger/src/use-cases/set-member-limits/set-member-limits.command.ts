import { Caller } from '@credit-ledger/domain';

/** A member's limits (`userId`), or the account default (`userId` null): per credit type, credits per cycle or null to remove. */
export class SetMemberLimitsCommand {
  constructor(
    readonly accountId: string,
    readonly userId: string | null,
    readonly creditTypes: Readonly<Record<string, number | null>>,
    readonly caller: Caller,
  ) {}
}
