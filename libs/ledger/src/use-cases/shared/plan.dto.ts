import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf, ValidateNested } from 'class-validator';
import {
  canonicalPricing,
  CreditTypePlan,
  IDENTIFIER_PATTERN,
  MAX_CREDITS_PER_MOVEMENT,
  MAX_RATES_PER_PLAN,
  PlanPricing,
  RateEntry,
  ratesProblem,
  CycleSchedule,
  isValidTimeZone,
  LAST_DAY_OF_MONTH,
  MAX_ALLOCATION_PER_CREDIT_TYPE,
  MAX_ANCHOR_DAY,
  MAX_EVERY,
  MAX_OVERDRAFT_LIMIT,
  MAX_ROLLOVER_EXPIRES_AFTER_CYCLES,
  MIN_ANCHOR_DAY,
  parseLocalDate,
  SchedulePeriod,
} from '@credit-ledger/domain';
import { FieldProblem, OnlyWhen, Satisfies } from '@credit-ledger/http';

export class OverdraftDto {
  @ApiProperty({ enum: ['deny', 'allow'], default: 'deny' })
  @IsIn(['deny', 'allow'])
  policy!: 'deny' | 'allow';

  @ApiPropertyOptional({ description: 'With allow: how far below zero remaining may go; absent = unlimited', example: 50 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_OVERDRAFT_LIMIT)
  @OnlyWhen('policy', 'allow')
  limit?: number;
}

export class RolloverDto {
  @ApiPropertyOptional({ description: 'Cap of unused allocation rolled into the next cycle, in credits (exactly one of maxCredits, maxPercent)', example: 200 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_ALLOCATION_PER_CREDIT_TYPE)
  @Satisfies((v, o) => v === undefined || o.maxPercent === undefined, 'cannot be given with maxPercent')
  maxCredits?: number;

  @ApiPropertyOptional({ description: 'Cap as a percent of the cycle allocation (rounded down)', example: 25 })
  @ValidateIf((o: RolloverDto) => o.maxPercent !== undefined || o.maxCredits === undefined)
  @IsInt({ message: 'maxPercent (or maxCredits) must be an integer' })
  @Min(0)
  @Max(100)
  maxPercent?: number;

  @ApiPropertyOptional({ description: 'Rolled-over credits expire at the boundary this many cycles after the reset that rolled them', default: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_ROLLOVER_EXPIRES_AFTER_CYCLES)
  expiresAfterCycles?: number;
}

export class CreditTypePlanDto {
  @ApiProperty({ description: 'Credits allocated every cycle', example: 1000 })
  @IsInt()
  @Min(0)
  @Max(MAX_ALLOCATION_PER_CREDIT_TYPE)
  allocation!: number;

  @ApiPropertyOptional({ type: OverdraftDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => OverdraftDto)
  overdraft?: OverdraftDto;

  @ApiPropertyOptional({ type: RolloverDto, description: 'Absent: unused allocation expires at the reset' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RolloverDto)
  rollover?: RolloverDto;
}

const isAnchorDay = (v: unknown) => v === LAST_DAY_OF_MONTH || (Number.isInteger(v) && (v as number) >= MIN_ANCHOR_DAY && (v as number) <= MAX_ANCHOR_DAY);

export class CycleScheduleDto {
  @ApiProperty({ enum: ['month', 'week', 'day'] })
  @IsIn(['month', 'week', 'day'])
  period!: SchedulePeriod;

  @ApiPropertyOptional({ description: 'Cycle length in periods (month 1..12, week 1..52, day 1..366)', default: 1 })
  @IsOptional()
  @IsInt()
  @Satisfies(
    (v, o) => typeof v === 'number' && v >= 1 && v <= (MAX_EVERY[o.period as SchedulePeriod] ?? 1),
    'must be 1..12 for month, 1..52 for week, 1..366 for day',
  )
  every?: number;

  @ApiPropertyOptional({
    description: `Monthly schedules: the day of the month, ${MIN_ANCHOR_DAY}..${MAX_ANCHOR_DAY} or "last"`,
    example: 1,
    oneOf: [{ type: 'integer' }, { type: 'string', enum: ['last'] }],
  })
  @Satisfies(
    (v, o) => (o.period === 'month' ? isAnchorDay(v) : v === undefined),
    `must be ${MIN_ANCHOR_DAY}..${MAX_ANCHOR_DAY} or "last" for a monthly schedule, absent otherwise`,
  )
  anchorDay?: number | 'last';

  @ApiPropertyOptional({ description: 'Weekly and daily schedules: a local date YYYY-MM-DD on which a cycle starts', example: '2026-11-02' })
  @Satisfies(
    (v, o) => (o.period === 'month' ? v === undefined : typeof v === 'string' && parseLocalDate(v) !== null),
    'must be a date YYYY-MM-DD for week and day schedules, absent for month',
  )
  anchorDate?: string;

  @ApiProperty({ description: 'IANA time zone: a boundary is midnight there', example: 'Europe/Paris' })
  @IsString()
  @Satisfies((v) => typeof v === 'string' && isValidTimeZone(v), 'must be an IANA time zone (e.g. UTC, Europe/Paris)')
  timezone!: string;
}

export function toCreditTypePlan(p: CreditTypePlanDto): CreditTypePlan {
  return {
    allocation: p.allocation,
    overdraft:
      p.overdraft?.policy === 'allow' ? { policy: 'allow', ...(p.overdraft.limit === undefined ? {} : { limit: p.overdraft.limit }) } : { policy: 'deny' },
    ...(p.rollover
      ? {
          rollover: {
            ...(p.rollover.maxCredits !== undefined ? { maxCredits: p.rollover.maxCredits } : { maxPercent: p.rollover.maxPercent }),
            ...(p.rollover.expiresAfterCycles !== undefined ? { expiresAfterCycles: p.rollover.expiresAfterCycles } : {}),
          },
        }
      : {}),
  };
}

export function toCreditTypePlans(creditTypes: Map<string, CreditTypePlanDto>): Record<string, CreditTypePlan> {
  return Object.fromEntries([...creditTypes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, p]) => [type, toCreditTypePlan(p)]));
}

/** Only the fields given, so that the foundation's `{period, anchorDay, timezone}` stays byte-identical. */
export function toSchedule(dto: CycleScheduleDto): CycleSchedule {
  return {
    period: dto.period,
    ...(dto.every !== undefined ? { every: dto.every } : {}),
    ...(dto.anchorDay !== undefined ? { anchorDay: dto.anchorDay } : {}),
    ...(dto.anchorDate !== undefined ? { anchorDate: dto.anchorDate } : {}),
    timezone: dto.timezone,
  };
}

export class RateDto {
  @ApiProperty({ example: 'people_search' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  feature!: string;

  @ApiPropertyOptional({ description: "Absent: the feature's default rate (an action's own entry wins)", example: 'mobile_reveal' })
  @IsOptional()
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  action?: string;

  @ApiProperty({ description: 'A credit type of the plan', example: 'mobile' })
  @IsString()
  @Matches(IDENTIFIER_PATTERN)
  creditType!: string;

  @ApiProperty({ description: 'Credits per unit (0: free, still recorded)', minimum: 0, maximum: MAX_CREDITS_PER_MOVEMENT, example: 2 })
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS_PER_MOVEMENT)
  credits!: number;
}

/** The rate card and client-price switch of a plan body (open an account, change the plan). */
export class PlanPricingDto {
  @ApiPropertyOptional({
    type: [RateDto],
    maxItems: MAX_RATES_PER_PLAN,
    description: 'The rate card: credits per unit of an action, per plan. Absent or []: no rate card (every consumption sends its credits)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_RATES_PER_PLAN)
  @ValidateNested({ each: true })
  @Type(() => RateDto)
  rates?: RateDto[];

  @ApiPropertyOptional({ default: true, description: 'Whether a consumption may still send its own credits (false: 409 CLIENT_PRICE_NOT_ALLOWED)' })
  @IsOptional()
  @IsBoolean()
  clientPrices?: boolean;
}

/** The pricing of a plan body in its canonical form (sorted rates, defaults left out), or the problems of its rate card. */
export function toPlanPricing(
  dto: PlanPricingDto,
  creditTypes: Readonly<Record<string, unknown>>,
  prefix: string,
): { pricing: PlanPricing } | { problems: FieldProblem[] } {
  const rates: RateEntry[] = (dto.rates ?? []).map((rate) => ({
    feature: rate.feature.normalize('NFC'),
    ...(rate.action === undefined ? {} : { action: rate.action.normalize('NFC') }),
    creditType: rate.creditType,
    credits: rate.credits,
  }));
  const problem = ratesProblem(rates, creditTypes);
  if (problem) return { problems: [{ field: `${prefix}rates.${problem.index}`, reason: problem.reason }] };
  return { pricing: canonicalPricing({ rates, clientPrices: dto.clientPrices }) };
}
