import { RESET_CYCLE_RESPONSE } from '../../views/response-schemas';
import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { ResetCycleCommand } from './reset-cycle.command';
import { ResetCycleDto } from './reset-cycle.dto';

@ApiTags('cycles')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/cycles')
export class ResetCycleController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @ApiResponse({ status: 201, description: 'a new cycle started', schema: RESET_CYCLE_RESPONSE })
  @ApiResponse({ status: 200, description: 'idempotent retry: the first outcome', schema: RESET_CYCLE_RESPONSE })
  @HttpCode(201)
  @AllowRoles('admin')
  @ApiOperation({
    summary: 'Close the current cycle (closing figures recorded) and open cycleId with fresh allocations. Same cycleId again: 200, nothing appended.',
  })
  @ApiResponse({ status: 409, description: 'IDEMPOTENCY_KEY_REUSED, UNKNOWN_CREDIT_TYPE' })
  async reset(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: ResetCycleDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    const allocations = dto.allocations ? Object.fromEntries([...dto.allocations.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) : undefined;
    return answer(
      res,
      await this.commands.execute<ICommand, HttpOutcome<unknown>>(new ResetCycleCommand(accountId, { cycleId: dto.cycleId, allocations }, caller)),
    );
  }
}
