import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import {
  CLIENT_ID_PATTERN,
  DATA_KEY_PATTERN,
  DEFAULT_RESERVATION_SECONDS,
  IDENTIFIER_PATTERN,
  MAX_CREDITS_PER_MOVEMENT,
  MAX_DESCRIPTION_LENGTH,
  MAX_RESERVATION_SECONDS,
  MAX_UNITS_PER_CONSUMPTION,
  MIN_RESERVATION_SECONDS,
  USER_ID_PATTERN,
} from '@credit-ledger/domain';

export class ReserveCreditsDto {
  @ApiProperty({ description: 'Client-chosen idempotency key', example: 'res_5d1b4c3e' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  reservationId!: string;

  @ApiProperty({ description: 'The team member the credits are held for (they count against their budget)', example: 'ana@acme.test' })
  @IsString()
  @Matches(USER_ID_PATTERN)
  userId!: string;

  @ApiPropertyOptional({
    description: "Required with credits. Without credits: priced by the plan's rate card, whose credit type this must be when given",
    example: 'email',
  })
  @ValidateIf((o: ReserveCreditsDto) => o.creditType !== undefined || o.credits !== undefined)
  @IsString({ message: 'creditType must be a string (it is required with credits)' })
  @Matches(IDENTIFIER_PATTERN)
  creditType?: string;

  @ApiProperty({ example: 'enrichment' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  feature!: string;

  @ApiProperty({ example: 'waterfall' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  action!: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_CREDITS_PER_MOVEMENT,
    example: 5,
    description: "Client-priced: the credits to hold. Absent: the plan's rate x units",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS_PER_MOVEMENT)
  credits?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_UNITS_PER_CONSUMPTION, default: 1, description: 'Units of the action (priced: rate x units)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_UNITS_PER_CONSUMPTION)
  units?: number;

  @ApiPropertyOptional({
    minimum: MIN_RESERVATION_SECONDS,
    maximum: MAX_RESERVATION_SECONDS,
    default: DEFAULT_RESERVATION_SECONDS,
    description: 'After this, the reservation holds nothing and ends as expired',
  })
  @IsOptional()
  @IsInt()
  @Min(MIN_RESERVATION_SECONDS)
  @Max(MAX_RESERVATION_SECONDS)
  expiresInSeconds?: number;

  @ApiPropertyOptional({ example: 'waterfall for contact_8812' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string;

  @ApiPropertyOptional({ description: 'Id of the datum to buy: already bought, the hold is 0', example: 'contact_8812' })
  @IsOptional()
  @IsString()
  @Matches(DATA_KEY_PATTERN)
  dataKey?: string;
}
