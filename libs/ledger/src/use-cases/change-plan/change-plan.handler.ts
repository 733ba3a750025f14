import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '../../../../domain/src';
import { AccountSession } from '../../infrastructure/account-repository';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { balancesView } from '../../http/views';
import { ChangePlanCommand } from './change-plan.command';

export const planKey = (planId: string) => `plan:${planId}`;

export function planView(session: AccountSession) {
  const s = session.state as OpenAccountState;
  const last = s.lastPlanChange;
  return {
    planId: s.plan.planId ?? null,
    creditTypes: s.plan.creditTypes,
    pending: s.pendingPlan ? { ...s.pendingPlan, effectiveAt: s.cycleEndsAt } : null,
    lastChange: last ? { planId: last.planId, effective: last.effective, effectiveAt: last.effectiveAt, adjustments: last.adjustments } : null,
    ...balancesView(s),
    position: last ? session.positionOf(planKey(last.planId)) : 0,
  };
}

@CommandHandler(ChangePlanCommand)
export class ChangePlanHandler implements ICommandHandler<ChangePlanCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(c: ChangePlanCommand): Promise<Outcome<ReturnType<typeof planView>>> {
    return this.executor.decideOne(c.accountId, c.ctx, planKey(c.data.planId), (at) => ({ type: 'ChangePlan', at, data: c.data }), planView);
  }
}
