import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { DomainErrorCode, refuse } from '@credit-ledger/domain';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { GetCyclesQuery } from './get-cycles.query';

/** Cycles of the account, newest first: the open one (closing null), then closed ones with their closing figures. */
@QueryHandler(GetCyclesQuery)
export class GetCyclesHandler implements IQueryHandler<GetCyclesQuery> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(q: GetCyclesQuery) {
    return this.executor.read(q.accountId, (session) => {
      const s = session.state;
      if (s.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
      const all = [...s.index.cycles.values()];
      const items = all
        .slice(-q.limit)
        .reverse()
        .map((c) => ({
          cycleId: c.cycleId,
          previousCycleId: c.previousCycleId,
          trigger: c.trigger,
          startedAt: c.startedAt,
          endsAt: c.endsAt,
          allocations: c.allocations,
          status: c.closedAt === null ? 'open' : 'closed',
          closedAt: c.closedAt,
          closing: c.closingFigures,
        }));
      return { accountId: s.accountId, currentCycleId: s.cycleId, total: all.length, items };
    });
  }
}
