import { Body, Controller, HttpCode, Param, Put, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply, UserIdPipe, validationFailed } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { SET_DEFAULT_LIMITS_RESPONSE, SET_MEMBER_LIMITS_RESPONSE } from '../../views/response-schemas';
import { SetMemberLimitsCommand } from './set-member-limits.command';
import { parseMemberLimits, SetMemberLimitsDto } from './set-member-limits.dto';

@ApiTags('members')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/members')
export class SetMemberLimitsController {
  constructor(private readonly commands: CommandBus) {}

  private async set(accountId: string, userId: string | null, dto: SetMemberLimitsDto, caller: Caller, res: HttpReply) {
    const parsed = parseMemberLimits(dto.creditTypes);
    if ('problems' in parsed) throw validationFailed(parsed.problems);
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new SetMemberLimitsCommand(accountId, userId, parsed.limits, caller)));
  }

  // Declared before `:userId/limits`, so that `default` is the account's default and not a member.
  @Put('default/limits')
  @ApiResponse({ status: 201, description: 'default limits changed', schema: SET_DEFAULT_LIMITS_RESPONSE })
  @ApiResponse({ status: 200, description: 'the same limits again: nothing changed', schema: SET_DEFAULT_LIMITS_RESPONSE })
  @ApiResponse({ status: 409, description: 'UNKNOWN_CREDIT_TYPE' })
  @HttpCode(201)
  @AllowRoles('admin')
  @ApiOperation({
    summary: "Set the account's default budget per credit type and cycle, for every member without a limit of their own (MemberLimitsSet); null removes one",
  })
  setDefault(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() dto: SetMemberLimitsDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    return this.set(accountId, null, dto, caller, res);
  }

  @Put(':userId/limits')
  @ApiParam({ name: 'userId', description: 'The member (the id `default` names the account default above)' })
  @ApiResponse({ status: 201, description: "the member's limits changed", schema: SET_MEMBER_LIMITS_RESPONSE })
  @ApiResponse({ status: 200, description: 'the same limits again: nothing changed', schema: SET_MEMBER_LIMITS_RESPONSE })
  @ApiResponse({ status: 409, description: 'UNKNOWN_CREDIT_TYPE' })
  @HttpCode(201)
  @AllowRoles('admin')
  @ApiOperation({ summary: "Set a member's budget per credit type and cycle (MemberLimitsSet); null removes it (the account default applies again)" })
  setMember(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Param('userId', UserIdPipe) userId: string,
    @Body() dto: SetMemberLimitsDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    return this.set(accountId, userId, dto, caller, res);
  }
}
