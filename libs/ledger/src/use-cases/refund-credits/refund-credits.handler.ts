import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '@credit-ledger/domain';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { AccountView } from '../../infrastructure/account-repository';
import { balanceView } from '../../views/balances.view';
import { RefundCreditsCommand } from './refund-credits.command';

const refundKey = (refundId: string) => `refund:${refundId}`;

function refundView(session: AccountView, refundId: string) {
  const r = (session.state as OpenAccountState).index.refunds.get(refundId);
  if (!r) throw new Error(`refund ${refundId} is not in the state`);
  return {
    refundId,
    consumptionId: r.consumptionId,
    creditsRefunded: r.credits,
    balance: balanceView(r.creditType, r.balanceAfter),
    position: session.positionOf(refundKey(refundId)),
  };
}

@CommandHandler(RefundCreditsCommand)
export class RefundCreditsHandler implements ICommandHandler<RefundCreditsCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: RefundCreditsCommand): Promise<Outcome<ReturnType<typeof refundView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      refundKey(command.data.refundId),
      (at) => ({ type: 'RefundCredits', at, data: command.data }),
      (session) => refundView(session, command.data.refundId),
    );
  }
}
