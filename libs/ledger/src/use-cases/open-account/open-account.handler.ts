import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '../../../../domain/src';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { AccountSession } from '../../infrastructure/account-repository';
import { balancesView, Outcome } from '../../http/views';
import { OpenAccountCommand } from './open-account.command';

export function accountView(session: AccountSession) {
  const s = session.state as OpenAccountState;
  const { balances, cycleId, cycleStartedAt, cycleEndsAt } = balancesView(s);
  return {
    accountId: s.accountId,
    name: s.name,
    plan: s.plan,
    cycle: { cycleId, startedAt: cycleStartedAt, endsAt: cycleEndsAt },
    balances,
    openedAt: s.openedAt,
    position: session.positionOf(`open:${s.accountId}`),
  };
}

@CommandHandler(OpenAccountCommand)
export class OpenAccountHandler implements ICommandHandler<OpenAccountCommand> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(c: OpenAccountCommand): Promise<Outcome<ReturnType<typeof accountView>>> {
    const at = this.clock.now().toISOString();
    return this.executor.execute(c.accountId, { actor: c.ctx.actor, correlationId: c.ctx.correlationId, recordedAt: at }, (session) => {
      const kind = session.decide(`open:${c.accountId}`, {
        type: 'OpenAccount',
        at,
        data: { accountId: c.accountId, name: c.name, plan: c.plan },
      });
      return () => ({ status: kind === 'created' ? 201 : 200, body: accountView(session) });
    });
  }
}
