import { CHANGE_PLAN_RESPONSE } from '../../views/response-schemas';
import { Body, Controller, HttpCode, Param, Put, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiExtraModels, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply, validationFailed } from '@credit-ledger/http';
import { toCreditTypePlans, toPlanPricing } from '../shared/plan.dto';
import { Caller } from '@credit-ledger/domain';
import { ChangePlanCommand } from './change-plan.command';
import { ChangePlanDto } from './change-plan.dto';
import { CreditTypePlanDto } from '../shared/plan.dto';

@ApiExtraModels(CreditTypePlanDto)
@ApiTags('plans')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/plan')
export class ChangePlanController {
  constructor(private readonly commands: CommandBus) {}

  @Put()
  @ApiResponse({ status: 201, description: 'plan changed (or scheduled for the next cycle)', schema: CHANGE_PLAN_RESPONSE })
  @ApiResponse({ status: 200, description: 'idempotent retry: the first outcome', schema: CHANGE_PLAN_RESPONSE })
  @HttpCode(201)
  @AllowRoles('admin')
  @ApiOperation({
    summary:
      'Change the plan (PlanChanged). effective now: upgrades prorated by the part of the cycle left (rounded up), downgrades prorated (rounded down) and capped at the unused allocation; next_cycle: at the next reset. The plan already in force (or pending): 200, nothing appended.',
  })
  @ApiResponse({ status: 409, description: 'PLAN_REMOVES_CREDIT_TYPE' })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: also a rate for a credit type outside the plan, or two rates for one action' })
  async change(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: ChangePlanDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    const creditTypes = toCreditTypePlans(dto.creditTypes);
    const priced = toPlanPricing(dto, creditTypes, '');
    if ('problems' in priced) throw validationFailed(priced.problems);
    const data = { planId: dto.planId, creditTypes, ...priced.pricing, effective: dto.effective };
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new ChangePlanCommand(accountId, data, caller)));
  }
}
