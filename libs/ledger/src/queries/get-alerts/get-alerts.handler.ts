import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { DomainErrorCode, refuse } from '@credit-ledger/domain';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { balanceView } from '../../views/balances.view';
import { GetAlertsQuery } from './get-alerts.query';

/** Threshold crossings (CreditThresholdCrossed), newest first. */
@QueryHandler(GetAlertsQuery)
export class GetAlertsHandler implements IQueryHandler<GetAlertsQuery> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(q: GetAlertsQuery) {
    return this.executor.read(q.accountId, (session) => {
      const s = session.state;
      if (s.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
      const all = s.index.alerts;
      return {
        accountId: s.accountId,
        total: all.length,
        items: all
          .slice(-q.limit)
          .reverse()
          .map((a) => ({
            occurredAt: a.occurredAt,
            creditType: a.creditType,
            cycleId: a.cycleId,
            thresholdId: a.thresholdId,
            threshold: a.threshold,
            percentUsed: a.percentUsed,
            balance: balanceView(a.creditType, a.balanceAfter),
          })),
      };
    });
  }
}
