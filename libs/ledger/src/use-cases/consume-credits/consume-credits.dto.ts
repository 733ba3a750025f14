import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import {
  CLIENT_ID_PATTERN,
  DATA_KEY_PATTERN,
  IDENTIFIER_PATTERN,
  MAX_CREDITS_PER_MOVEMENT,
  MAX_DESCRIPTION_LENGTH,
  MAX_UNITS_PER_CONSUMPTION,
  USER_ID_PATTERN,
} from '@credit-ledger/domain';
import { IsInstant, MAX_CLIENT_CLOCK_SKEW_MS } from '@credit-ledger/http';

export class ConsumeCreditsDto {
  @ApiProperty({ description: 'Client-chosen idempotency key', example: '3f0c2a8e-5d1b-4c3e-9f7a-2b6d8e1c4a90' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  consumptionId!: string;

  @ApiProperty({ description: 'The team member who spent the credits', example: 'ana@acme.test' })
  @IsString()
  @Matches(USER_ID_PATTERN)
  userId!: string;

  @ApiPropertyOptional({
    description: "Required with credits. Without credits: priced by the plan's rate card, whose credit type this must be when given",
    example: 'email',
  })
  @ValidateIf((o: ConsumeCreditsDto) => o.creditType !== undefined || o.credits !== undefined)
  @IsString({ message: 'creditType must be a string (it is required with credits)' })
  @Matches(IDENTIFIER_PATTERN)
  creditType?: string;

  @ApiProperty({ example: 'people_search' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  feature!: string;

  @ApiProperty({ example: 'email_reveal' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  action!: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_CREDITS_PER_MOVEMENT,
    example: 1,
    description: "Client-priced: the credits to charge (the plan may forbid it: CLIENT_PRICE_NOT_ALLOWED). Absent: the plan's rate x units",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS_PER_MOVEMENT)
  credits?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_UNITS_PER_CONSUMPTION, default: 1, description: 'Units of the action (priced: rate x units)', example: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_UNITS_PER_CONSUMPTION)
  units?: number;

  @ApiPropertyOptional({ example: 'Jane Doe, VP Sales at Initech' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string;

  @ApiPropertyOptional({ example: 'email' })
  @IsOptional()
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  dataRequested?: string;

  @ApiPropertyOptional({ description: 'Id of the bought datum: the same dataKey and credit type is charged once', example: 'contact_8812' })
  @IsOptional()
  @IsString()
  @Matches(DATA_KEY_PATTERN)
  dataKey?: string;

  @ApiPropertyOptional({ description: 'Business time (ISO-8601); default: now', example: '2026-11-21T10:00:00Z' })
  @IsOptional()
  @IsInstant(MAX_CLIENT_CLOCK_SKEW_MS)
  occurredAt?: string;
}
