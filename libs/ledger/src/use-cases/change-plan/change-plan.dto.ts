import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
import { CLIENT_ID_PATTERN, MAX_CREDIT_TYPES_PER_PLAN } from '@credit-ledger/domain';
import { IsIdentifierKeyedMap, KeepEveryKey } from '@credit-ledger/http';
import { CreditTypePlanDto, PlanPricingDto } from '../shared/plan.dto';

export class ChangePlanDto extends PlanPricingDto {
  @ApiProperty({ description: 'Name of the new plan', example: 'pro' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  planId!: string;

  @ApiProperty({
    description: 'Every credit type of the new plan (a plan change keeps every existing type; set its allocation to 0 to stop it)',
    example: { email: { allocation: 2500, rollover: { maxPercent: 25 } }, mobile: { allocation: 100 } },
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/CreditTypePlanDto' },
  })
  @IsIdentifierKeyedMap(MAX_CREDIT_TYPES_PER_PLAN)
  @ValidateNested({ each: true })
  @Type(() => CreditTypePlanDto)
  @KeepEveryKey()
  creditTypes!: Map<string, CreditTypePlanDto>;

  @ApiPropertyOptional({ enum: ['now', 'next_cycle'], description: 'Default: now when no allocation decreases, else next_cycle' })
  @IsOptional()
  @IsIn(['now', 'next_cycle'])
  effective?: 'now' | 'next_cycle';
}
