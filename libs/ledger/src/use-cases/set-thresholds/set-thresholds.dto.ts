import { ApiProperty } from '@nestjs/swagger';
import { IsObject } from 'class-validator';
import {
  IDENTIFIER_PATTERN,
  MAX_ALLOCATION_PER_CREDIT_TYPE,
  MAX_CREDIT_TYPES_PER_PLAN,
  MAX_PERCENT_THRESHOLD,
  MAX_THRESHOLDS_PER_CREDIT_TYPE,
  Threshold,
  THRESHOLD_KINDS,
} from '@credit-ledger/domain';
import { FieldProblem } from '@credit-ledger/http';

export class SetThresholdsDto {
  @ApiProperty({
    description: `Per credit type, 0..${MAX_THRESHOLDS_PER_CREDIT_TYPE} thresholds: {kind: "percent_used", value: 1..${MAX_PERCENT_THRESHOLD}} (percent of the cycle allocation used) or {kind: "remaining", value: credits} (remaining at or below). A credit type not listed keeps the defaults (80% and 100% used); [] turns its alerts off.`,
    example: {
      email: [
        { kind: 'percent_used', value: 80 },
        { kind: 'remaining', value: 50 },
      ],
    },
  })
  @IsObject()
  creditTypes!: Record<string, unknown>;
}

/** Field-by-field check of the thresholds map (nested arrays of unions: checked by hand, each problem named). */
export function parseThresholds(value: Record<string, unknown>): { thresholds: Record<string, Threshold[]> } | { problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const out: Record<string, Threshold[]> = {};
  const entries = Object.entries(value);
  if (entries.length > MAX_CREDIT_TYPES_PER_PLAN) problems.push({ field: 'creditTypes', reason: `at most ${MAX_CREDIT_TYPES_PER_PLAN} credit types` });
  for (const [creditType, list] of entries) {
    const field = `creditTypes.${creditType}`;
    if (!IDENTIFIER_PATTERN.test(creditType)) {
      problems.push({ field, reason: `credit types must match ${IDENTIFIER_PATTERN}` });
      continue;
    }
    if (!Array.isArray(list) || list.length > MAX_THRESHOLDS_PER_CREDIT_TYPE) {
      problems.push({ field, reason: `must be an array of 0..${MAX_THRESHOLDS_PER_CREDIT_TYPE} thresholds` });
      continue;
    }
    out[creditType] = [];
    list.forEach((t: unknown, i) => {
      const f = `${field}.${i}`;
      if (t === null || typeof t !== 'object' || Array.isArray(t)) return problems.push({ field: f, reason: 'must be {kind, value}' });
      const { kind, value: v, ...rest } = t as Record<string, unknown>;
      if (Object.keys(rest).length > 0) return problems.push({ field: `${f}.${Object.keys(rest)[0]}`, reason: 'is not allowed' });
      if (!(THRESHOLD_KINDS as readonly unknown[]).includes(kind))
        return problems.push({ field: `${f}.kind`, reason: `must be one of ${THRESHOLD_KINDS.join(', ')}` });
      const [min, max] = kind === 'percent_used' ? [1, MAX_PERCENT_THRESHOLD] : [0, MAX_ALLOCATION_PER_CREDIT_TYPE];
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
        return problems.push({ field: `${f}.value`, reason: `must be an integer ${min}..${max}` });
      out[creditType].push({ kind, value: v } as Threshold);
      return undefined;
    });
  }
  return problems.length ? { problems } : { thresholds: out };
}
