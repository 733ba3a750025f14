import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { DATA_KEY_PATTERN, IDENTIFIER_PATTERN, MAX_CREDITS_PER_MOVEMENT, MAX_UNITS_PER_CONSUMPTION, USER_ID_PATTERN } from '@credit-ledger/domain';

/** A consumption's pricing fields without its id and description: what a check asks about. */
export class CheckSpendDto {
  @ApiProperty({ description: 'The member who would spend', example: 'ana@acme.test' })
  @IsString()
  @Matches(USER_ID_PATTERN)
  userId!: string;

  @ApiProperty({ example: 'people_search' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  feature!: string;

  @ApiProperty({ example: 'email_reveal' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  action!: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_UNITS_PER_CONSUMPTION, default: 1, example: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_UNITS_PER_CONSUMPTION)
  units?: number;

  @ApiPropertyOptional({
    description: 'Client-priced: the credits the consumption would send (with creditType)',
    minimum: 1,
    maximum: MAX_CREDITS_PER_MOVEMENT,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS_PER_MOVEMENT)
  credits?: number;

  @ApiPropertyOptional({ description: "Required with credits; without, the rate card's credit type (when given, it must be the rate's)", example: 'email' })
  @ValidateIf((o: CheckSpendDto) => o.creditType !== undefined || o.credits !== undefined)
  @IsString({ message: 'creditType must be a string (it is required with credits)' })
  @Matches(IDENTIFIER_PATTERN)
  creditType?: string;

  @ApiPropertyOptional({ description: 'The datum the consumption would buy: already bought, it costs 0', example: 'contact_8812' })
  @IsOptional()
  @IsString()
  @Matches(DATA_KEY_PATTERN)
  dataKey?: string;
}
