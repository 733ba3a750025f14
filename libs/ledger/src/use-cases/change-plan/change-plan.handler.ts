import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { clientPricesOf, OpenAccountState, ratesOf } from '@credit-ledger/domain';
import { AccountView } from '../../infrastructure/account-repository';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { balancesView } from '../../views/balances.view';
import { ChangePlanCommand } from './change-plan.command';

export const planKey = (planId: string) => `plan:${planId}`;

export function planView(session: AccountView) {
  const s = session.state as OpenAccountState;
  const last = s.lastPlanChange;
  return {
    planId: s.plan.planId ?? null,
    creditTypes: s.plan.creditTypes,
    rates: ratesOf(s.plan),
    clientPrices: clientPricesOf(s.plan),
    pending: s.pendingPlan ? { ...s.pendingPlan, effectiveAt: s.cycleEndsAt } : null,
    lastChange: last ? { planId: last.planId, effective: last.effective, effectiveAt: last.effectiveAt, adjustments: last.adjustments } : null,
    ...balancesView(s),
    position: last ? session.positionOf(planKey(last.planId)) : 0,
  };
}

@CommandHandler(ChangePlanCommand)
export class ChangePlanHandler implements ICommandHandler<ChangePlanCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: ChangePlanCommand): Promise<Outcome<ReturnType<typeof planView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      planKey(command.data.planId),
      (at) => ({ type: 'ChangePlan', at, data: command.data }),
      planView,
    );
  }
}
