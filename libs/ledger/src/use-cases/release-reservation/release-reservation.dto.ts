import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { MAX_REASON_LENGTH } from '@credit-ledger/domain';

export class ReleaseReservationDto {
  @ApiPropertyOptional({ example: 'no provider had the data' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_REASON_LENGTH)
  reason?: string;
}
