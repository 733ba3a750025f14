import { CYCLES_RESPONSE } from '../../views/response-schemas';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { AccountIdPipe, AllowRoles } from '@credit-ledger/http';
import { GetCyclesQuery } from './get-cycles.query';

export const DEFAULT_CYCLES_PAGE = 100;
export const MAX_CYCLES_PAGE = 1_000;

export class CyclesParams {
  @ApiPropertyOptional({ default: DEFAULT_CYCLES_PAGE, maximum: MAX_CYCLES_PAGE, description: 'Newest cycles first' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_CYCLES_PAGE)
  limit?: number;
}

@ApiTags('cycles')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/cycles')
export class GetCyclesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiResponse({ status: 200, description: 'the cycles, newest first', schema: CYCLES_RESPONSE })
  @AllowRoles('admin', 'analyst')
  @ApiOperation({ summary: 'Cycles, newest first: the open one, then past cycles with their closing figures per credit type' })
  cycles(@Param('accountId', AccountIdPipe) accountId: string, @Query() params: CyclesParams) {
    return this.queries.execute(new GetCyclesQuery(accountId, params.limit ?? DEFAULT_CYCLES_PAGE));
  }
}
