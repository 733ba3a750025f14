import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { RESERVATION_RESPONSE } from '../../views/response-schemas';
import { ReserveCreditsCommand, toReserveData } from './reserve-credits.command';
import { ReserveCreditsDto } from './reserve-credits.dto';

@ApiTags('reservations')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/reservations')
export class ReserveCreditsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @ApiResponse({ status: 201, description: 'held (acknowledged once on disk)', schema: RESERVATION_RESPONSE })
  @ApiResponse({ status: 200, description: 'idempotent retry: the first outcome', schema: RESERVATION_RESPONSE })
  @ApiResponse({
    status: 409,
    description:
      'refused like a consumption: INSUFFICIENT_CREDITS, MEMBER_LIMIT_EXCEEDED, NO_RATE_FOR_ACTION, UNKNOWN_CREDIT_TYPE, CLIENT_PRICE_NOT_ALLOWED, CHARGE_TOO_LARGE; IDEMPOTENCY_KEY_REUSED, TOO_MANY_OPEN_RESERVATIONS',
  })
  @AllowRoles('admin', 'service')
  @ApiOperation({
    summary:
      'Hold credits before long or uncertain work: priced and decided like a consumption, on remaining minus what is already held. Capture what it cost, or release it; it expires otherwise.',
  })
  async reserve(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: ReserveCreditsDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new ReserveCreditsCommand(accountId, toReserveData(dto), caller)));
  }
}
