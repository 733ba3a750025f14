import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AllowRoles, validationFailed } from '@credit-ledger/http';
import { arrayOf, instant, nullable, objectOf, str } from '@credit-ledger/ledger';
import { ProjectionService } from '../nest/projection.service';
import { awaitPosition } from '../nest/read-access';
import { AccountQueries, decodeAccountsCursor, DEFAULT_ACCOUNTS_PAGE, MAX_ACCOUNT_SEARCH_LENGTH, MAX_ACCOUNTS_PAGE } from './accounts.query';

export class AccountsParams {
  @ApiPropertyOptional({ description: 'A part of the account id or name, any case', example: 'acme', maxLength: MAX_ACCOUNT_SEARCH_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_ACCOUNT_SEARCH_LENGTH)
  search?: string;

  @ApiPropertyOptional({ default: DEFAULT_ACCOUNTS_PAGE, minimum: 1, maximum: MAX_ACCOUNTS_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_ACCOUNTS_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page (with the same search)' })
  @IsOptional()
  @IsString()
  @MaxLength(400)
  cursor?: string;

  @ApiPropertyOptional({ description: 'Wait until the read models reached this global position' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  minPosition?: number;
}

export const ACCOUNTS_RESPONSE = objectOf({
  items: arrayOf(objectOf({ accountId: str(), name: str(), openedAt: instant() })),
  nextCursor: nullable(str('Pass back as cursor= (with the same search) for the next page; null on the last page')),
});

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1/accounts')
export class AccountsController {
  constructor(
    private readonly projections: ProjectionService,
    private readonly accounts: AccountQueries,
  ) {}

  @Get()
  @AllowRoles() // the superuser only
  @ApiResponse({ status: 200, description: 'a page of accounts, by id', schema: ACCOUNTS_RESPONSE })
  @ApiOperation({ summary: 'Accounts by id, searched by a part of the id or name (superuser); keyset pages' })
  async list(@Query() p: AccountsParams) {
    const search = p.search?.trim() || undefined;
    const after = p.cursor === undefined ? undefined : decodeAccountsCursor(p.cursor, search);
    if (p.cursor !== undefined && after === undefined)
      throw validationFailed([{ field: 'cursor', reason: 'cursor is not one this API returned for this search' }]);
    await awaitPosition(this.projections, p.minPosition);
    return this.accounts.page(search, p.limit ?? DEFAULT_ACCOUNTS_PAGE, after);
  }
}
