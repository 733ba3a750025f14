import { CHANGE_SCHEDULE_RESPONSE } from '../../views/response-schemas';
import { Body, Controller, HttpCode, Param, Put, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply } from '@credit-ledger/http';
import { CycleScheduleDto, toSchedule } from '../shared/plan.dto';
import { Caller } from '@credit-ledger/domain';
import { ChangeScheduleCommand } from './change-schedule.command';

@ApiTags('cycles')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/schedule')
export class ChangeScheduleController {
  constructor(private readonly commands: CommandBus) {}

  @Put()
  @ApiResponse({ status: 201, description: 'schedule changed (effective at the next boundary)', schema: CHANGE_SCHEDULE_RESPONSE })
  @ApiResponse({ status: 200, description: 'the same schedule again: nothing changed', schema: CHANGE_SCHEDULE_RESPONSE })
  @ApiResponse({ status: 409, description: 'a domain refusal with a stable code (IDEMPOTENCY_KEY_REUSED, ...)' })
  @HttpCode(201)
  @AllowRoles('admin')
  @ApiOperation({
    summary:
      'Change the cycle schedule (ScheduleChanged): the open cycle ends as planned, the new schedule applies from that boundary. The schedule already in force or pending: 200.',
  })
  async change(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: CycleScheduleDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new ChangeScheduleCommand(accountId, toSchedule(dto), caller)));
  }
}
