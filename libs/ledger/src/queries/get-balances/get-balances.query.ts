export class GetBalancesQuery {
  constructor(readonly accountId: string) {}
}
