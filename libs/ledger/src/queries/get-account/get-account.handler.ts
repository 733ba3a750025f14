import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { DomainErrorCode, OpenAccountState, refuse } from '@credit-ledger/domain';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { thresholdsView } from '../../use-cases/set-thresholds/set-thresholds.handler';
import { GetAccountQuery } from './get-account.query';

const DAY_MS = 86_400_000;
/** Live grants listed per account, newest first. */
export const MAX_LISTED_GRANTS = 100;

/** The grants that still hold credits (their bucket is live), newest first, with what is left of each. */
function liveGrants(s: OpenAccountState) {
  const grants = [];
  for (const [grantId, g] of s.index.grants.entries()) {
    const bucket = s.creditTypes[g.creditType]?.buckets.find((b) => b.id === `grant:${grantId}`);
    if (!bucket) continue;
    grants.push({
      grantId,
      creditType: g.creditType,
      credits: g.credits,
      remaining: bucket.remaining,
      expiresAt: g.expiresAt,
      priority: g.priority,
      grantedAt: g.grantedAt,
    });
  }
  return grants.sort((a, b) => (a.grantedAt < b.grantedAt ? 1 : a.grantedAt > b.grantedAt ? -1 : 0)).slice(0, MAX_LISTED_GRANTS);
}

/** One account's settings and open cycle: plan, schedule (and pending changes), thresholds, live grants. */
@QueryHandler(GetAccountQuery)
export class GetAccountHandler implements IQueryHandler<GetAccountQuery> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: GetAccountQuery) {
    return this.executor.read(q.accountId, (session) => {
      if (session.state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
      const s = session.state;
      const now = this.clock.now().getTime();
      const endsAt = Date.parse(s.cycleEndsAt);
      const { creditTypes } = thresholdsView(session);
      const previous = s.index.cycles.get(s.index.cycles.get(s.cycleId)?.previousCycleId ?? '');
      return {
        accountId: s.accountId,
        name: s.name,
        openedAt: s.openedAt,
        plan: s.plan,
        pendingPlan: s.pendingPlan,
        schedule: s.plan.cycle,
        pendingSchedule: s.pendingSchedule,
        cycle: { cycleId: s.cycleId, startedAt: s.cycleStartedAt, endsAt: s.cycleEndsAt, daysLeft: Math.max(0, Math.ceil((endsAt - now) / DAY_MS)) },
        previousCycle: previous ? { cycleId: previous.cycleId, startedAt: previous.startedAt, endsAt: previous.closedAt ?? previous.endsAt } : null,
        thresholds: creditTypes,
        grants: liveGrants(s),
        revision: session.revision,
      };
    });
  }
}
