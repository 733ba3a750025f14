import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { DomainErrorCode, refuse } from '../../../../domain/src';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { balancesView } from '../../http/views';
import { GetBalancesQuery } from './get-balances.query';

/** Balances of the current cycle: the fold of the account's events, caught up with the store. */
@QueryHandler(GetBalancesQuery)
export class GetBalancesHandler implements IQueryHandler<GetBalancesQuery> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(q: GetBalancesQuery): Promise<ReturnType<typeof balancesView> & { revision: number }> {
    return this.executor.read(q.accountId, (session) => {
      if (session.state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
      return { ...balancesView(session.state), revision: session.revision };
    });
  }
}
