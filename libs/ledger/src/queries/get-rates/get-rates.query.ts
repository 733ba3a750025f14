export class GetRatesQuery {
  constructor(readonly accountId: string) {}
}
