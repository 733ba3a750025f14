import { SpendRequest } from '@credit-ledger/domain';

/** May this member spend this, and what would it cost? Writes nothing. */
export class CheckSpendQuery {
  constructor(
    readonly accountId: string,
    readonly request: SpendRequest,
  ) {}
}
