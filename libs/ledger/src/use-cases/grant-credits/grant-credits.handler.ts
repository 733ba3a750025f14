import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '@credit-ledger/domain';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { AccountView } from '../../infrastructure/account-repository';
import { balanceView } from '../../views/balances.view';
import { GrantCreditsCommand } from './grant-credits.command';

const grantKey = (grantId: string) => `grant:${grantId}`;

function grantView(session: AccountView, grantId: string) {
  const g = (session.state as OpenAccountState).index.grants.get(grantId);
  if (!g) throw new Error(`grant ${grantId} is not in the state`);
  return {
    grantId,
    creditType: g.creditType,
    credits: g.credits,
    expiresAt: g.expiresAt,
    priority: g.priority,
    balance: balanceView(g.creditType, g.balanceAfter),
    position: session.positionOf(grantKey(grantId)),
  };
}

@CommandHandler(GrantCreditsCommand)
export class GrantCreditsHandler implements ICommandHandler<GrantCreditsCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: GrantCreditsCommand): Promise<Outcome<ReturnType<typeof grantView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      grantKey(command.data.grantId),
      (at) => ({ type: 'GrantCredits', at, data: command.data }),
      (session) => grantView(session, command.data.grantId),
    );
  }
}
