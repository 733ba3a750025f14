import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowRoles } from '../../auth/access';
import { AccountIdPipe } from '../../http/account-id.pipe';
import { GetBalancesQuery } from './get-balances.query';

@ApiTags('queries')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/balances')
export class GetBalancesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @AllowRoles('admin', 'analyst', 'member')
  @ApiOperation({ summary: 'Balances of every credit type in the current cycle' })
  balances(@Param('accountId', AccountIdPipe) accountId: string) {
    return this.queries.execute(new GetBalancesQuery(accountId));
  }
}
