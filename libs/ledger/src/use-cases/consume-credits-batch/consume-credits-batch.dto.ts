import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray } from 'class-validator';
import { ConsumeCreditsDto } from '../consume-credits/consume-credits.dto';

/** Items per batch request at most. */
export const MAX_BATCH_ITEMS = 1_000;

export class ConsumeCreditsBatchDto {
  @ApiProperty({ type: [ConsumeCreditsDto], minItems: 1, maxItems: MAX_BATCH_ITEMS, description: 'Each item is validated and decided on its own' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_ITEMS)
  items!: unknown[];
}
