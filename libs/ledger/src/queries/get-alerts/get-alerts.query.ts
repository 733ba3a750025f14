export class GetAlertsQuery {
  constructor(
    readonly accountId: string,
    readonly limit: number,
  ) {}
}
