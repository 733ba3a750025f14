import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { SpendCheck } from '@credit-ledger/domain';
import { CheckSpendQuery } from './check-spend.query';
import { SpendChecker } from './spend-checker';

@QueryHandler(CheckSpendQuery)
export class CheckSpendHandler implements IQueryHandler<CheckSpendQuery> {
  constructor(private readonly checker: SpendChecker) {}

  execute(query: CheckSpendQuery): Promise<SpendCheck> {
    return this.checker.check(query.accountId, query.request);
  }
}
