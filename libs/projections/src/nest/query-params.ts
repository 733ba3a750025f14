import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, registerDecorator, ValidationArguments } from 'class-validator';
import { CLIENT_ID_PATTERN, DATA_KEY_PATTERN, IDENTIFIER_PATTERN, parseInstant, USER_ID_PATTERN } from '@credit-ledger/domain';
import { IsInstant, validationFailed } from '@credit-ledger/http';
import { DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE } from '../history/history.query';
import { Bucket, BUCKETS, isTimeZone } from '../usage/time-buckets';
import { SERIES_GROUPS, SeriesGroup } from '../usage/usage.query';

/** Default window of the usage and series endpoints when from/to are omitted. */
export const DEFAULT_USAGE_WINDOW_DAYS = 30;

function IsTimeZone() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isTimeZone',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && value.length <= 64 && isTimeZone(value),
        defaultMessage: (args: ValidationArguments) => `${args.property} must be an IANA time zone such as Europe/Paris or UTC`,
      },
    });
}

export class RangeParams {
  @ApiPropertyOptional({ description: 'Inclusive ISO-8601 instant', example: '2026-11-01T00:00:00Z' })
  @IsOptional()
  @IsInstant(null)
  from?: string;

  @ApiPropertyOptional({ description: 'Exclusive ISO-8601 instant', example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @IsInstant(null)
  to?: string;

  @ApiPropertyOptional({ example: 'email' })
  @IsOptional()
  @Matches(IDENTIFIER_PATTERN)
  creditType?: string;

  @ApiPropertyOptional({ description: 'Wait until the read models reached this global position (read your own writes)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  minPosition?: number;
}

export class UserRangeParams extends RangeParams {
  @ApiPropertyOptional({ example: 'ana@acme.test' })
  @IsOptional()
  @Matches(USER_ID_PATTERN)
  @Transform(({ value }) => (typeof value === 'string' ? value.normalize('NFC') : value))
  userId?: string;

  @ApiPropertyOptional({ example: 'people_search' })
  @IsOptional()
  @Matches(IDENTIFIER_PATTERN)
  feature?: string;

  @ApiPropertyOptional({ example: 'email_reveal' })
  @IsOptional()
  @Matches(IDENTIFIER_PATTERN)
  action?: string;
}

export class HistoryParams extends UserRangeParams {
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'true' })
  @IsOptional()
  @IsIn(['true', 'false'])
  includeRefunds?: 'true' | 'false';

  @ApiPropertyOptional({ description: 'One consumption and its refunds', example: '5d1b0c2a-0001' })
  @IsOptional()
  @Matches(CLIENT_ID_PATTERN)
  consumptionId?: string;

  @ApiPropertyOptional({ description: 'The consumptions that bought or accessed this datum (dataKey of the consumption)', example: 'contact_8812' })
  @IsOptional()
  @Matches(DATA_KEY_PATTERN)
  dataKey?: string;
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false', description: "Also list reservations' holds, releases and expiries" })
  @IsOptional()
  @IsIn(['true', 'false'])
  includeHolds?: 'true' | 'false';

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ default: DEFAULT_HISTORY_PAGE, minimum: 1, maximum: MAX_HISTORY_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_HISTORY_PAGE)
  limit?: number;
}

export class SeriesParams extends UserRangeParams {
  @ApiPropertyOptional({ enum: BUCKETS, default: 'day' })
  @IsOptional()
  @IsIn(BUCKETS)
  bucket?: Bucket;

  @ApiPropertyOptional({ enum: SERIES_GROUPS, default: 'feature' })
  @IsOptional()
  @IsIn(SERIES_GROUPS)
  groupBy?: SeriesGroup;

  @ApiPropertyOptional({ default: 'UTC', example: 'America/New_York' })
  @IsOptional()
  @IsTimeZone()
  timezone?: string;
}

export class MinPositionParams {
  @ApiPropertyOptional({ description: 'Wait until the read models reached this global position' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  minPosition?: number;
}

/** from/to as instants: both optional for history (unbounded); the usage endpoints default to the last 30 days. */
export function rangeOf(p: RangeParams, defaultWindow: boolean, now: Date): { from?: number; to?: number } {
  let to = p.to === undefined ? undefined : (parseInstant(p.to) ?? undefined);
  let from = p.from === undefined ? undefined : (parseInstant(p.from) ?? undefined);
  if (defaultWindow) {
    to ??= now.getTime();
    from ??= to - DEFAULT_USAGE_WINDOW_DAYS * 86_400_000;
  }
  if (from !== undefined && to !== undefined && from >= to) throw validationFailed([{ field: 'from', reason: 'from must be before to' }]);
  return { from, to };
}
