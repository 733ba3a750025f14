import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import {
  CLIENT_ID_PATTERN,
  DATA_KEY_PATTERN,
  IDENTIFIER_PATTERN,
  MAX_CREDITS_PER_MOVEMENT,
  MAX_DESCRIPTION_LENGTH,
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

  @ApiProperty({ example: 'email' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  creditType!: string;

  @ApiProperty({ example: 'people_search' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  feature!: string;

  @ApiProperty({ example: 'email_reveal' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  action!: string;

  @ApiProperty({ minimum: 1, maximum: MAX_CREDITS_PER_MOVEMENT, example: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS_PER_MOVEMENT)
  credits!: number;

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
