export class GetBalancesQuery {
  constructor(
    readonly accountId: string,
    /** ISO instant: balances as the ledger stood then; absent = now. */
    readonly asOf?: string,
  ) {}
}
