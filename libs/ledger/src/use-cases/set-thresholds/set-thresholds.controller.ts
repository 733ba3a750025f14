import { SET_THRESHOLDS_RESPONSE } from '../../views/response-schemas';
import { Body, Controller, HttpCode, Param, Put, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply, validationFailed } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { SetThresholdsCommand } from './set-thresholds.command';
import { parseThresholds, SetThresholdsDto } from './set-thresholds.dto';

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/thresholds')
export class SetThresholdsController {
  constructor(private readonly commands: CommandBus) {}

  @Put()
  @ApiResponse({ status: 201, description: 'thresholds set', schema: SET_THRESHOLDS_RESPONSE })
  @ApiResponse({ status: 200, description: 'the same thresholds again: nothing changed', schema: SET_THRESHOLDS_RESPONSE })
  @ApiResponse({ status: 409, description: 'a domain refusal with a stable code (IDEMPOTENCY_KEY_REUSED, ...)' })
  @HttpCode(201)
  @AllowRoles('admin')
  @ApiOperation({ summary: 'Set usage alert thresholds per credit type (ThresholdsSet). The same thresholds again: 200.' })
  async set(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: SetThresholdsDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    const parsed = parseThresholds(dto.creditTypes);
    if ('problems' in parsed) throw validationFailed(parsed.problems);
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new SetThresholdsCommand(accountId, parsed.thresholds, caller)));
  }
}
