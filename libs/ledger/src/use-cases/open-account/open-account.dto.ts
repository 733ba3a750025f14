import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { CLIENT_ID_PATTERN, MAX_CREDIT_TYPES_PER_PLAN, MAX_NAME_LENGTH } from '@credit-ledger/domain';
import { IsIdentifierKeyedMap, KeepEveryKey } from '@credit-ledger/http';
import { CreditTypePlanDto, CycleScheduleDto, PlanPricingDto } from '../shared/plan.dto';

export { CreditTypePlanDto, CycleScheduleDto };

export class PlanDto extends PlanPricingDto {
  @ApiProperty({
    description: 'One entry per credit type (identifiers like email, mobile, export, ai_research)',
    example: { email: { allocation: 1000 }, mobile: { allocation: 100, overdraft: { policy: 'allow', limit: 10 } } },
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/CreditTypePlanDto' },
  })
  @IsIdentifierKeyedMap(MAX_CREDIT_TYPES_PER_PLAN)
  @ValidateNested({ each: true })
  @Type(() => CreditTypePlanDto)
  @KeepEveryKey()
  creditTypes!: Map<string, CreditTypePlanDto>;

  @ApiPropertyOptional({
    type: CycleScheduleDto,
    description: 'Default: monthly on day 1, UTC. Monthly on anchorDay 1..28 or "last", or every N months/weeks/days, in an IANA time zone',
  })
  @IsOptional()
  @IsObject({ message: 'cycle must be an object' })
  @ValidateNested()
  @Type(() => CycleScheduleDto)
  cycle?: CycleScheduleDto;
}

export class OpenAccountDto {
  @ApiProperty({ example: 'acme', pattern: CLIENT_ID_PATTERN.source })
  @Matches(CLIENT_ID_PATTERN)
  accountId!: string;

  @ApiProperty({ example: 'Acme Inc.' })
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  name!: string;

  @ApiProperty({ type: PlanDto })
  @IsObject({ message: 'plan must be an object' })
  @ValidateNested()
  @Type(() => PlanDto)
  plan!: PlanDto;
}
