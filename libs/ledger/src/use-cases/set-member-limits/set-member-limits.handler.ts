import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '@credit-ledger/domain';
import { AccountView } from '../../infrastructure/account-repository';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { defaultLimitsView, memberView } from '../../views/members.view';
import { SetMemberLimitsCommand } from './set-member-limits.command';

/** The command key of a member's limits (the account default: `member-limits` alone). */
export const memberLimitsKey = (userId: string | null) => (userId === null ? 'member-limits' : `member-limits:${userId}`);

export function memberLimitsView(session: AccountView, userId: string | null) {
  const state = session.state as OpenAccountState;
  const position = session.positionOf(memberLimitsKey(userId));
  if (userId === null) return { ...defaultLimitsView(state), position };
  return { accountId: state.accountId, ...memberView(state, userId), position };
}

@CommandHandler(SetMemberLimitsCommand)
export class SetMemberLimitsHandler implements ICommandHandler<SetMemberLimitsCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: SetMemberLimitsCommand): Promise<Outcome<ReturnType<typeof memberLimitsView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      memberLimitsKey(command.userId),
      (at) => ({ type: 'SetMemberLimits', at, data: { userId: command.userId, creditTypes: command.creditTypes } }),
      (session) => memberLimitsView(session, command.userId),
    );
  }
}
