import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import {
  CLIENT_ID_PATTERN,
  MAX_ALLOCATION_PER_CREDIT_TYPE,
  MAX_ANCHOR_DAY,
  MAX_CREDIT_TYPES_PER_PLAN,
  MAX_NAME_LENGTH,
  MAX_OVERDRAFT_LIMIT,
  MIN_ANCHOR_DAY,
} from '../../../../domain/src';
import { IsIdentifierKeyedMap, OnlyWhen } from '../../http/dto-rules';

export class OverdraftDto {
  @ApiProperty({ enum: ['deny', 'allow'], default: 'deny' })
  @IsIn(['deny', 'allow'])
  policy!: 'deny' | 'allow';

  @ApiPropertyOptional({ description: 'With allow: how far below zero remaining may go; absent = unlimited', example: 50 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_OVERDRAFT_LIMIT)
  @OnlyWhen('policy', 'allow')
  limit?: number;
}

export class CreditTypePlanDto {
  @ApiProperty({ description: 'Credits allocated every cycle', example: 1000 })
  @IsInt()
  @Min(0)
  @Max(MAX_ALLOCATION_PER_CREDIT_TYPE)
  allocation!: number;

  @ApiPropertyOptional({ type: OverdraftDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => OverdraftDto)
  overdraft?: OverdraftDto;
}

export class CycleScheduleDto {
  @ApiProperty({ enum: ['month'] })
  @IsIn(['month'])
  period!: 'month';

  @ApiProperty({ minimum: MIN_ANCHOR_DAY, maximum: MAX_ANCHOR_DAY, example: 1 })
  @IsInt()
  @Min(MIN_ANCHOR_DAY)
  @Max(MAX_ANCHOR_DAY)
  anchorDay!: number;

  @ApiProperty({ enum: ['UTC'] })
  @IsIn(['UTC'])
  timezone!: 'UTC';
}

export class PlanDto {
  @ApiProperty({
    description: 'One entry per credit type (identifiers like email, mobile, export, ai_research)',
    example: { email: { allocation: 1000 }, mobile: { allocation: 100, overdraft: { policy: 'allow', limit: 10 } } },
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/CreditTypePlanDto' },
  })
  @IsIdentifierKeyedMap(MAX_CREDIT_TYPES_PER_PLAN)
  @ValidateNested({ each: true })
  @Type(() => CreditTypePlanDto)
  creditTypes!: Map<string, CreditTypePlanDto>;

  @ApiPropertyOptional({ type: CycleScheduleDto, description: 'Default: monthly on day 1, UTC' })
  @IsOptional()
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
  @ValidateNested()
  @Type(() => PlanDto)
  plan!: PlanDto;
}
