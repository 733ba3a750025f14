import { ApiProperty } from '@nestjs/swagger';
import { IsObject } from 'class-validator';
import { IDENTIFIER_PATTERN, MAX_CREDIT_TYPES_PER_PLAN, MAX_MEMBER_LIMIT } from '@credit-ledger/domain';
import { FieldProblem } from '@credit-ledger/http';

export class SetMemberLimitsDto {
  @ApiProperty({
    description: `Per credit type: the credits the member may spend per cycle (0..${MAX_MEMBER_LIMIT}), or null to remove the limit. Credit types not listed keep their limit.`,
    example: { email: 50, mobile: null },
    type: 'object',
    additionalProperties: { type: 'integer', nullable: true, minimum: 0, maximum: MAX_MEMBER_LIMIT },
  })
  @IsObject()
  creditTypes!: Record<string, unknown>;
}

/** Field-by-field check of the limits map (values are integers or null: checked by hand, each problem named). */
export function parseMemberLimits(value: Record<string, unknown>): { limits: Record<string, number | null> } | { problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const limits: Record<string, number | null> = {};
  const entries = Object.entries(value);
  if (entries.length > MAX_CREDIT_TYPES_PER_PLAN) problems.push({ field: 'creditTypes', reason: `at most ${MAX_CREDIT_TYPES_PER_PLAN} credit types` });
  for (const [creditType, limit] of entries) {
    const field = `creditTypes.${creditType}`;
    if (!IDENTIFIER_PATTERN.test(creditType)) problems.push({ field, reason: `credit types must match ${IDENTIFIER_PATTERN}` });
    else if (limit !== null && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0 || limit > MAX_MEMBER_LIMIT)) {
      problems.push({ field, reason: `must be an integer 0..${MAX_MEMBER_LIMIT}, or null to remove the limit` });
    } else limits[creditType] = limit;
  }
  return problems.length > 0 ? { problems } : { limits };
}
