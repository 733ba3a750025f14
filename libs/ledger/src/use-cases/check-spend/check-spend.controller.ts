import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, ApiError, Ctx } from '@credit-ledger/http';
import { Caller, SpendCheck } from '@credit-ledger/domain';
import { CHECK_RESPONSE } from '../../views/response-schemas';
import { CheckSpendDto } from './check-spend.dto';
import { CheckSpendQuery } from './check-spend.query';

@ApiTags('credits')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/check')
export class CheckSpendController {
  constructor(private readonly queries: QueryBus) {}

  @Post()
  @HttpCode(200)
  @ApiResponse({
    status: 200,
    description: 'whether the consumption would be accepted now, and what it would charge (nothing is written)',
    schema: CHECK_RESPONSE,
  })
  @ApiResponse({
    status: 409,
    description: 'CLIENT_PRICE_NOT_ALLOWED, CHARGE_TOO_LARGE, CYCLES_BEHIND: the consumption itself would be refused with this code',
  })
  @AllowRoles('admin', 'service', 'member')
  @ApiOperation({
    summary:
      'Check a spend before the click: the same decision as a consumption (price, balance, member budget, already purchased), without charging. A member key checks for itself only.',
  })
  check(@Param('accountId', AccountIdPipe) accountId: string, @Body() dto: CheckSpendDto, @Ctx() caller: Caller): Promise<SpendCheck> {
    const principal = caller.principal;
    const userId = dto.userId.normalize('NFC');
    if (principal.kind === 'key' && principal.role === 'member' && principal.userId !== userId) {
      throw new ApiError(403, 'FORBIDDEN', 'a member key checks only for itself');
    }
    const request = {
      userId,
      feature: dto.feature.normalize('NFC'),
      action: dto.action.normalize('NFC'),
      ...(dto.creditType === undefined ? {} : { creditType: dto.creditType }),
      ...(dto.credits === undefined ? {} : { credits: dto.credits }),
      ...(dto.units === undefined ? {} : { units: dto.units }),
      ...(dto.dataKey === undefined ? {} : { dataKey: dto.dataKey }),
    };
    return this.queries.execute(new CheckSpendQuery(accountId, request));
  }
}
