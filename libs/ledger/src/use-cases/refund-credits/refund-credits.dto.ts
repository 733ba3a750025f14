import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { CLIENT_ID_PATTERN, MAX_CREDITS_PER_MOVEMENT, MAX_REASON_LENGTH } from '@credit-ledger/domain';

export class RefundCreditsDto {
  @ApiProperty({ description: 'Client-chosen idempotency key', example: 'refund_7781' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  refundId!: string;

  @ApiProperty({ example: '3f0c2a8e-5d1b-4c3e-9f7a-2b6d8e1c4a90' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN)
  consumptionId!: string;

  @ApiPropertyOptional({ description: 'Omitted: refund what is left of that charge', minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS_PER_MOVEMENT)
  credits?: number;

  @ApiProperty({ example: 'email bounced' })
  @IsString()
  @Length(1, MAX_REASON_LENGTH)
  reason!: string;
}
