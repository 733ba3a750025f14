import { REFUND_RESPONSE } from '../../views/response-schemas';
import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { RefundCreditsCommand, toRefundData } from './refund-credits.command';
import { RefundCreditsDto } from './refund-credits.dto';

@ApiTags('credits')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/refunds')
export class RefundCreditsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @ApiResponse({ status: 201, description: 'refunded', schema: REFUND_RESPONSE })
  @ApiResponse({ status: 200, description: 'idempotent retry: the first outcome', schema: REFUND_RESPONSE })
  @HttpCode(201)
  @AllowRoles('admin', 'service')
  @ApiOperation({ summary: 'Refund all or part of one earlier consumption. Same refundId again: 200, same body.' })
  @ApiResponse({ status: 409, description: 'REFUND_EXCEEDS_CONSUMPTION, CONSUMPTION_NOT_FOUND, IDEMPOTENCY_KEY_REUSED' })
  async refund(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: RefundCreditsDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new RefundCreditsCommand(accountId, toRefundData(dto), caller)));
  }
}
