import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { clientPricesOf, DomainErrorCode, PlanPricing, ratesOf, refuse, stateAt } from '@credit-ledger/domain';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { GetRatesQuery } from './get-rates.query';

function rateCard(planId: string | null, pricing: PlanPricing) {
  return { planId, clientPrices: clientPricesOf(pricing), rates: ratesOf(pricing) };
}

/** The rate card in force (as of now: a plan change due at a passed boundary is in force) and the one a pending plan change brings. */
@QueryHandler(GetRatesQuery)
export class GetRatesHandler implements IQueryHandler<GetRatesQuery> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: GetRatesQuery) {
    const at = this.clock.now().toISOString();
    return this.executor.read(q.accountId, (session) => {
      if (session.state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
      const state = stateAt(session.state, at);
      const pending = state.pendingPlan;
      return {
        accountId: state.accountId,
        ...rateCard(state.plan.planId ?? null, state.plan),
        pending: pending ? { ...rateCard(pending.planId, pending), effectiveAt: state.cycleEndsAt } : null,
      };
    });
  }
}
