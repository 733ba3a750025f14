import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '@credit-ledger/domain';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { AccountView } from '../../infrastructure/account-repository';
import { balancesView } from '../../views/balances.view';
import { OpenAccountCommand } from './open-account.command';

export function accountView(session: AccountView) {
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
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: OpenAccountCommand): Promise<Outcome<ReturnType<typeof accountView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      `open:${command.accountId}`,
      (at) => ({ type: 'OpenAccount', at, data: { accountId: command.accountId, name: command.name, plan: command.plan } }),
      (session) => accountView(session),
    );
  }
}
