import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches } from 'class-validator';
import { CLIENT_ID_PATTERN, MAX_ALLOCATION_PER_CREDIT_TYPE, MAX_CREDIT_TYPES_PER_PLAN } from '@credit-ledger/domain';
import { IsIdentifierKeyedMap, IsIntegerValues, toMapOrKeep } from '@credit-ledger/http';

export class ResetCycleDto {
  @ApiProperty({ description: 'Idempotency key of the new cycle, e.g. 2026-12', example: '2026-12' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  cycleId!: string;

  @ApiPropertyOptional({ description: "Allocations for the new cycle per credit type; default: the plan's", example: { email: 1200 } })
  @IsOptional()
  @IsIdentifierKeyedMap(MAX_CREDIT_TYPES_PER_PLAN)
  @IsIntegerValues(0, MAX_ALLOCATION_PER_CREDIT_TYPE)
  @Transform(({ obj }) => toMapOrKeep((obj as { allocations?: unknown }).allocations))
  allocations?: Map<string, number>;
}
