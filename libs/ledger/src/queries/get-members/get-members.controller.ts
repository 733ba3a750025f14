import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AccountIdPipe, AllowRoles, ApiError, Ctx, UserIdPipe, validationFailed } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { MEMBER_RESPONSE, MEMBERS_RESPONSE } from '../../views/response-schemas';
import { GetMemberQuery, GetMembersQuery } from './get-members.query';

export const DEFAULT_MEMBERS_PAGE = 100;
export const MAX_MEMBERS_PAGE = 1_000;

export class MembersParams {
  @ApiPropertyOptional({ default: DEFAULT_MEMBERS_PAGE, maximum: MAX_MEMBERS_PAGE, description: 'Members per page, in user id order' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_MEMBERS_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

/** The user id a members cursor carries, or a 400 naming it. */
function cursorUserId(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const userId = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (userId === '' || Buffer.from(userId, 'utf8').toString('base64url') !== cursor) {
    throw validationFailed([{ field: 'cursor', reason: 'is not a cursor this endpoint gave' }]);
  }
  return userId;
}

@ApiTags('members')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/members')
export class GetMembersController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiResponse({ status: 200, description: 'a page of members', schema: MEMBERS_RESPONSE })
  @AllowRoles('admin', 'analyst')
  @ApiOperation({ summary: "Every member seen in usage or given a limit, with this cycle's used, limit and remaining per credit type; pages by user id" })
  members(@Param('accountId', AccountIdPipe) accountId: string, @Query() params: MembersParams) {
    return this.queries.execute(new GetMembersQuery(accountId, params.limit ?? DEFAULT_MEMBERS_PAGE, cursorUserId(params.cursor)));
  }

  @Get(':userId')
  @ApiResponse({ status: 200, description: "the member's budgets", schema: MEMBER_RESPONSE })
  @AllowRoles('admin', 'analyst', 'member')
  @ApiOperation({ summary: "One member's used, limit and remaining per credit type this cycle (a member key: its own only)" })
  member(@Param('accountId', AccountIdPipe) accountId: string, @Param('userId', UserIdPipe) userId: string, @Ctx() caller: Caller) {
    const principal = caller.principal;
    if (principal.kind === 'key' && principal.role === 'member' && principal.userId !== userId) {
      throw new ApiError(403, 'FORBIDDEN', 'a member key reads only its own budget');
    }
    return this.queries.execute(new GetMemberQuery(accountId, userId));
  }
}
