import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { CLIENT_ID_PATTERN, IDENTIFIER_PATTERN, MAX_CREDITS_PER_MOVEMENT, MAX_DESCRIPTION_LENGTH } from '@credit-ledger/domain';

export class CaptureReservationDto {
  @ApiProperty({ description: 'The consumption the capture records: its idempotency key', example: '3f0c2a8e-5d1b-4c3e-9f7a-2b6d8e1c4a90' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  consumptionId!: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_CREDITS_PER_MOVEMENT,
    description: 'What the work really cost, at most what is held (default: all of it). 0: nothing found, recorded and free',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS_PER_MOVEMENT)
  credits?: number;

  @ApiPropertyOptional({ description: "Default: the reservation's description", example: 'Jane Doe, VP Sales at Initech' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string;

  @ApiPropertyOptional({ example: 'mobile' })
  @IsOptional()
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  dataRequested?: string;
}

/** The capture as a usage message carries it (Kafka): the reservation is in the body, not the path. */
export class CaptureReservationMessageDto extends CaptureReservationDto {
  @ApiProperty({ example: 'res_5d1b4c3e' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  reservationId!: string;
}
