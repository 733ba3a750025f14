import { OPEN_ACCOUNT_RESPONSE } from '../../views/response-schemas';
import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Caller, canAccessAccount, Plan } from '@credit-ledger/domain';
import { AllowRoles, answer, ApiError, Ctx, HttpOutcome, HttpReply, validationFailed } from '@credit-ledger/http';
import { OpenAccountCommand } from './open-account.command';
import { OpenAccountDto } from './open-account.dto';
import { toCreditTypePlans, toPlanPricing, toSchedule } from '../shared/plan.dto';

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1/accounts')
export class OpenAccountController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @ApiResponse({ status: 201, description: 'opened', schema: OPEN_ACCOUNT_RESPONSE })
  @ApiResponse({ status: 200, description: 'already open with the same name and plan', schema: OPEN_ACCOUNT_RESPONSE })
  @HttpCode(201)
  @AllowRoles('admin')
  @ApiOperation({ summary: 'Open an account with its plan; the first cycle starts. Same id and body again: 200.' })
  @ApiResponse({ status: 409, description: 'IDEMPOTENCY_KEY_REUSED: the id exists with another name or plan' })
  async open(@Body() dto: OpenAccountDto, @Ctx() caller: Caller, @Res({ passthrough: true }) res: HttpReply) {
    if (!canAccessAccount(caller.principal, dto.accountId)) throw new ApiError(403, 'FORBIDDEN', 'this API key is not allowed on that account');
    const creditTypes = toCreditTypePlans(dto.plan.creditTypes);
    const priced = toPlanPricing(dto.plan, creditTypes, 'plan.');
    if ('problems' in priced) throw validationFailed(priced.problems);
    const plan: Plan = {
      creditTypes,
      cycle: dto.plan.cycle ? toSchedule(dto.plan.cycle) : { period: 'month', anchorDay: 1, timezone: 'UTC' },
      ...priced.pricing,
    };
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new OpenAccountCommand(dto.accountId, dto.name, plan, caller)));
  }
}
