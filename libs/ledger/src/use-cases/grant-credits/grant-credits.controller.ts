import { GRANT_RESPONSE } from '../../views/response-schemas';
import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { GrantCreditsCommand, toGrantData } from './grant-credits.command';
import { GrantCreditsDto } from './grant-credits.dto';

@ApiTags('credits')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/grants')
export class GrantCreditsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @ApiResponse({ status: 201, description: 'granted', schema: GRANT_RESPONSE })
  @ApiResponse({ status: 200, description: 'idempotent retry: the first outcome', schema: GRANT_RESPONSE })
  @HttpCode(201)
  @AllowRoles('admin', 'service')
  @ApiOperation({ summary: 'Top up credits outside the plan allocation (optionally expiring). Same grantId again: 200.' })
  @ApiResponse({ status: 409, description: 'UNKNOWN_CREDIT_TYPE, GRANT_ALREADY_EXPIRED, IDEMPOTENCY_KEY_REUSED' })
  async grant(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: GrantCreditsDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new GrantCreditsCommand(accountId, toGrantData(dto), caller)));
  }
}
