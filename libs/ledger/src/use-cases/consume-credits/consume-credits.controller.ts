import { CONSUMPTION_RESPONSE } from '../../views/response-schemas';
import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { ConsumeCreditsCommand } from './consume-credits.command';
import { ConsumeCreditsDto } from './consume-credits.dto';
import { toConsumeData } from './consumption-view';

@ApiTags('credits')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/consumptions')
export class ConsumeCreditsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @ApiResponse({ status: 201, description: 'charged (or recorded at 0 credits when the dataKey was already bought)', schema: CONSUMPTION_RESPONSE })
  @ApiResponse({ status: 200, description: 'idempotent retry: the first outcome', schema: CONSUMPTION_RESPONSE })
  @HttpCode(201)
  @AllowRoles('admin', 'service')
  @ApiOperation({ summary: 'Spend credits of one credit type (acknowledged once on disk). Retry with the same consumptionId: 200, same body.' })
  @ApiResponse({ status: 409, description: 'INSUFFICIENT_CREDITS, IDEMPOTENCY_KEY_REUSED, UNKNOWN_CREDIT_TYPE' })
  async consume(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: ConsumeCreditsDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new ConsumeCreditsCommand(accountId, toConsumeData(dto), caller)));
  }
}
