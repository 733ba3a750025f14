import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles } from '@credit-ledger/http';
import { RATES_RESPONSE } from '../../views/response-schemas';
import { GetRatesQuery } from './get-rates.query';

@ApiTags('plans')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/rates')
export class GetRatesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiResponse({ status: 200, description: 'the rate card in force and the pending one', schema: RATES_RESPONSE })
  @AllowRoles('admin', 'analyst', 'service', 'member')
  @ApiOperation({ summary: 'The rate card in force (credits per unit of each action) and the one a plan change at the next cycle brings' })
  rates(@Param('accountId', AccountIdPipe) accountId: string) {
    return this.queries.execute(new GetRatesQuery(accountId));
  }
}
