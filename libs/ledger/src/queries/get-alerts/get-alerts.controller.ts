import { ALERTS_RESPONSE } from '../../views/response-schemas';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { AccountIdPipe, AllowRoles } from '@credit-ledger/http';
import { GetAlertsQuery } from './get-alerts.query';

export const DEFAULT_ALERTS_PAGE = 100;
export const MAX_ALERTS_PAGE = 1_000;

export class AlertsParams {
  @ApiPropertyOptional({ default: DEFAULT_ALERTS_PAGE, maximum: MAX_ALERTS_PAGE, description: 'Newest alerts first' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_ALERTS_PAGE)
  limit?: number;
}

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/alerts')
export class GetAlertsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiResponse({ status: 200, description: 'the latest alerts, newest first', schema: ALERTS_RESPONSE })
  @AllowRoles('admin', 'analyst')
  @ApiOperation({ summary: 'Threshold alerts (CreditThresholdCrossed), newest first: once per threshold per cycle' })
  alerts(@Param('accountId', AccountIdPipe) accountId: string, @Query() params: AlertsParams) {
    return this.queries.execute(new GetAlertsQuery(accountId, params.limit ?? DEFAULT_ALERTS_PAGE));
  }
}
