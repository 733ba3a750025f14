import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, MaxLength, Min, Max, ValidateIf } from 'class-validator';
import { WEBHOOK_EVENT_TYPES } from '../events/event-types';
import { DEFAULT_DELIVERIES_PAGE, MAX_DELIVERIES_PAGE, MAX_WEBHOOK_DESCRIPTION_LENGTH, MAX_WEBHOOK_URL_LENGTH } from '../limits';
import { DELIVERY_STATUSES, DeliveryStatus } from '../store/webhook-store';

export class CreateWebhookDto {
  @ApiProperty({
    description: 'https:// URL of the receiver (http:// only with LEDGER_WEBHOOKS_ALLOW_HTTP=true)',
    example: 'https://example.com/hooks/credits',
  })
  @IsString()
  @MaxLength(MAX_WEBHOOK_URL_LENGTH)
  url!: string;

  @ApiProperty({ description: 'Event types to receive', type: [String], enum: WEBHOOK_EVENT_TYPES, example: ['credits.threshold_crossed', 'cycle.reset'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @IsString({ each: true })
  eventTypes!: string[];

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_WEBHOOK_DESCRIPTION_LENGTH, example: 'billing service' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_WEBHOOK_DESCRIPTION_LENGTH)
  description?: string | null;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ description: 'A new URL (checked like at registration)' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_WEBHOOK_URL_LENGTH)
  url?: string;

  @ApiPropertyOptional({ type: [String], enum: WEBHOOK_EVENT_TYPES })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @IsString({ each: true })
  eventTypes?: string[];

  @ApiPropertyOptional({ description: 'false: nothing is sent; true: enabled again (also after it was disabled for failing)' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_WEBHOOK_DESCRIPTION_LENGTH })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(MAX_WEBHOOK_DESCRIPTION_LENGTH)
  description?: string | null;
}

export class DeliveriesParams {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ default: DEFAULT_DELIVERIES_PAGE, maximum: MAX_DELIVERIES_PAGE, description: 'Newest deliveries first' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_DELIVERIES_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  before?: number;
}

export class ReplayParams {
  @ApiProperty({ description: 'Re-send what derives from ledger events at or after this global position', minimum: 0 })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  fromPosition!: number;
}
