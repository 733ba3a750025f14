import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '../../../../domain/src';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { AccountSession } from '../../infrastructure/account-repository';
import { balanceView, Outcome } from '../../http/views';
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
    balance: balanceView(g.creditType, g.balanceAfter),
    position: session.positionOf(grantKey(grantId)),
  };
}

@CommandHandler(GrantCreditsCommand)
export class GrantCreditsHandler implements ICommandHandler<GrantCreditsCommand> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(c: GrantCreditsCommand): Promise<Outcome<ReturnType<typeof grantView>>> {
    const at = this.clock.now().toISOString();
    return this.executor.execute(c.accountId, { actor: c.ctx.actor, correlationId: c.ctx.correlationId, recordedAt: at }, (session) => {
      const kind = session.decide(grantKey(c.data.grantId), { type: 'GrantCredits', at, data: c.data });
      return () => ({ status: kind === 'created' ? 201 : 200, body: grantView(session, c.data.grantId) });
    });
  }
}
