import { BALANCES_RESPONSE } from '../../views/response-schemas';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { AccountIdPipe, AllowRoles, HeavyRead, IsInstant } from '@credit-ledger/http';
import { GetBalancesQuery } from './get-balances.query';

export class BalancesParams {
  @ApiPropertyOptional({ description: 'Balances as the ledger stood at this instant (events recorded at or before it)', example: '2026-11-15T00:00:00Z' })
  @IsOptional()
  @IsInstant(null)
  asOf?: string;
}

@ApiTags('queries')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/balances')
export class GetBalancesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiResponse({ status: 200, description: 'the balances', schema: BALANCES_RESPONSE })
  @AllowRoles('admin', 'analyst', 'member')
  @HeavyRead((req) => req.query.asOf !== undefined)
  @ApiOperation({ summary: 'Balances of every credit type in the current cycle, or as they stood at asOf' })
  balances(@Param('accountId', AccountIdPipe) accountId: string, @Query() params: BalancesParams) {
    return this.queries.execute(new GetBalancesQuery(accountId, params.asOf));
  }
}
