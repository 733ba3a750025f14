import { EVENTS_RESPONSE } from '../../views/response-schemas';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { AccountIdPipe, AllowRoles } from '@credit-ledger/http';
import { GetAccountEventsQuery } from './get-account-events.query';

export const DEFAULT_EVENTS_PAGE = 100;
export const MAX_EVENTS_PAGE = 1_000;

export class AccountEventsParams {
  @ApiPropertyOptional({ description: 'Global position: only events after it', default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after?: number;

  @ApiPropertyOptional({ default: DEFAULT_EVENTS_PAGE, maximum: MAX_EVENTS_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_EVENTS_PAGE)
  limit?: number;
}

@ApiTags('queries')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/events')
export class GetAccountEventsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiResponse({ status: 200, description: 'a page of the events of the account', schema: EVENTS_RESPONSE })
  @AllowRoles('admin', 'analyst')
  @ApiOperation({ summary: "The account's raw events in order (audit trail); page with after=<nextAfter>" })
  events(@Param('accountId', AccountIdPipe) accountId: string, @Query() params: AccountEventsParams) {
    return this.queries.execute(new GetAccountEventsQuery(accountId, params.after ?? 0, params.limit ?? DEFAULT_EVENTS_PAGE));
  }
}
