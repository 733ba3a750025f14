import { Body, Controller, HttpCode, Param, Put, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome } from '@credit-ledger/http';
import { toCreditTypePlans } from '../shared/plan.dto';
import { Caller } from '@credit-ledger/domain';
import { ChangePlanCommand } from './change-plan.command';
import { ChangePlanDto } from './change-plan.dto';

@ApiTags('plans')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/plan')
export class ChangePlanController {
  constructor(private readonly commands: CommandBus) {}

  @Put()
  @HttpCode(201)
  @AllowRoles('admin')
  @ApiOperation({
    summary:
      'Change the plan (PlanChanged). effective now: upgrades prorated by the part of the cycle left (rounded up), downgrades prorated (rounded down) and capped at the unused allocation; next_cycle: at the next reset. The plan already in force (or pending): 200, nothing appended.',
  })
  @ApiResponse({ status: 409, description: 'PLAN_REMOVES_CREDIT_TYPE' })
  async change(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: ChangePlanDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: Response,
  ) {
    const data = { planId: dto.planId, creditTypes: toCreditTypePlans(dto.creditTypes), effective: dto.effective };
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new ChangePlanCommand(accountId, data, caller)));
  }
}
