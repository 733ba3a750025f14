export class GetAccountEventsQuery {
  constructor(
    readonly accountId: string,
    readonly after: number,
    readonly limit: number,
  ) {}
}
