/** One page of the account's members (by user id), after `cursor`. */
export class GetMembersQuery {
  constructor(
    readonly accountId: string,
    readonly limit: number,
    readonly after?: string,
  ) {}
}

/** One member's budgets. */
export class GetMemberQuery {
  constructor(
    readonly accountId: string,
    readonly userId: string,
  ) {}
}
