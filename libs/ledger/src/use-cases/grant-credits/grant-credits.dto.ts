import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import {
  CLIENT_ID_PATTERN,
  IDENTIFIER_PATTERN,
  MAX_CREDITS_PER_MOVEMENT,
  MAX_GRANT_PRIORITY,
  MAX_REASON_LENGTH,
  MIN_GRANT_PRIORITY,
} from '@credit-ledger/domain';
import { IsInstant } from '@credit-ledger/http';

export class GrantCreditsDto {
  @ApiProperty({ description: 'Client-chosen idempotency key', example: 'topup_2026_11_acme' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  grantId!: string;

  @ApiProperty({ example: 'email' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  creditType!: string;

  @ApiProperty({ minimum: 1, example: 500 })
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS_PER_MOVEMENT)
  credits!: number;

  @ApiProperty({ example: 'purchased top-up' })
  @IsString()
  @Length(1, MAX_REASON_LENGTH)
  reason!: string;

  @ApiPropertyOptional({ description: 'When the unused rest lapses (ISO-8601); absent = never', example: '2027-02-01T00:00:00Z' })
  @IsOptional()
  @IsInstant(null)
  expiresAt?: string;

  @ApiPropertyOptional({
    description: `Burn-down priority, higher drawn first (${MIN_GRANT_PRIORITY}..${MAX_GRANT_PRIORITY}); the cycle allocation is 0`,
    default: 0,
  })
  @IsOptional()
  @IsInt()
  @Min(MIN_GRANT_PRIORITY)
  @Max(MAX_GRANT_PRIORITY)
  priority?: number;
}
