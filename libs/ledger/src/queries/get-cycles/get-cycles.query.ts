export class GetCyclesQuery {
  constructor(
    readonly accountId: string,
    readonly limit: number,
  ) {}
}
