import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '../../../../domain/src';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { AccountSession } from '../../infrastructure/account-repository';
import { balanceView } from '../../http/views';
import { GrantCreditsCommand } from './grant-credits.command';

const grantKey = (grantId: string) => `grant:${grantId}`;

function grantView(session: AccountSession, grantId: string) {
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

  execute(c: GrantCreditsCommand): Promise<Outcome<ReturnType<typeof grantView>>> {
    return this.executor.decideOne(c.accountId, c.ctx, grantKey(c.data.grantId), (at) => ({ type: 'GrantCredits', at, data: c.data }), (session) => grantView(session, c.data.grantId));
  }
}
