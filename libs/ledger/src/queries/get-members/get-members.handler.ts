import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AccountState, DomainErrorCode, OpenAccountState, refuse, stateAt } from '@credit-ledger/domain';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { defaultLimitsView, memberView } from '../../views/members.view';
import { GetMemberQuery, GetMembersQuery } from './get-members.query';

/** The account as of now: a cycle boundary passed without a reset yet counts as reset (budgets renewed), as a consumption would see it. */
function currentState(state: AccountState, at: string): OpenAccountState {
  if (state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
  return stateAt(state, at);
}

/** Every member seen in usage or given a limit, in user id order, one page at a time. */
@QueryHandler(GetMembersQuery)
export class GetMembersHandler implements IQueryHandler<GetMembersQuery> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: GetMembersQuery) {
    const at = this.clock.now().toISOString();
    return this.executor.read(q.accountId, (session) => {
      const state = currentState(session.state, at);
      const userIds = [...state.index.members.keys()].filter((userId) => q.after === undefined || userId > q.after).sort();
      const page = userIds.slice(0, q.limit);
      const more = userIds.length > q.limit;
      return {
        ...defaultLimitsView(state),
        items: page.map((userId) => memberView(state, userId)),
        nextCursor: more ? Buffer.from(page[page.length - 1], 'utf8').toString('base64url') : null,
      };
    });
  }
}

/** One member's budgets (a member never seen has used nothing, under the account's default limits). */
@QueryHandler(GetMemberQuery)
export class GetMemberHandler implements IQueryHandler<GetMemberQuery> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: GetMemberQuery) {
    const at = this.clock.now().toISOString();
    return this.executor.read(q.accountId, (session) => {
      const state = currentState(session.state, at);
      return { accountId: state.accountId, ...memberView(state, q.userId) };
    });
  }
}
