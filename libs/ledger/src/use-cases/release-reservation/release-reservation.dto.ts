import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { CLIENT_ID_PATTERN, MAX_REASON_LENGTH } from '@credit-ledger/domain';

export class ReleaseReservationDto {
  @ApiPropertyOptional({ example: 'no provider had the data' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_REASON_LENGTH)
  reason?: string;
}

/** The release as a usage message carries it (Kafka): the reservation is in the body, not the path. */
export class ReleaseReservationMessageDto extends ReleaseReservationDto {
  @ApiProperty({ example: 'res_5d1b4c3e' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  reservationId!: string;
}
