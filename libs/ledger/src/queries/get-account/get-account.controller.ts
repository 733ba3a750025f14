import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles } from '@credit-ledger/http';
import { arrayOf, instant, int, mapOf, nullable, objectOf, PLAN_CREDIT_TYPE_SCHEMA, PLAN_SCHEMA, SCHEDULE_SCHEMA, str } from '../../views/response-schemas';
import { GetAccountQuery } from './get-account.query';

const THRESHOLD_SCHEMA = objectOf({ kind: { type: 'string', enum: ['percent_used', 'remaining'] }, value: int() });

export const ACCOUNT_RESPONSE = objectOf({
  accountId: str(),
  name: str(),
  openedAt: instant(),
  plan: PLAN_SCHEMA,
  pendingPlan: nullable(objectOf({ planId: str(), creditTypes: mapOf(PLAN_CREDIT_TYPE_SCHEMA) })),
  schedule: SCHEDULE_SCHEMA,
  pendingSchedule: nullable(SCHEDULE_SCHEMA),
  cycle: objectOf({ cycleId: str(), startedAt: instant(), endsAt: instant(), daysLeft: int('Whole days until the cycle ends, rounded up') }),
  previousCycle: nullable(objectOf({ cycleId: str(), startedAt: instant(), endsAt: instant('When it closed') }, {})),
  thresholds: mapOf(
    objectOf({ thresholds: arrayOf(THRESHOLD_SCHEMA), default: { type: 'boolean' }, alerted: arrayOf(str('Threshold ids alerted in this cycle')) }),
    'Per credit type',
  ),
  grants: arrayOf(
    objectOf({
      grantId: str(),
      creditType: str(),
      credits: int('Granted'),
      remaining: int('Still available from this grant'),
      expiresAt: nullable(instant()),
      priority: int(),
      grantedAt: instant(),
    }),
  ),
  revision: int('Stream revision of the last event folded'),
});

@ApiTags('queries')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId')
export class GetAccountController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @AllowRoles('admin', 'analyst', 'member', 'service')
  @ApiResponse({ status: 200, description: 'the account', schema: ACCOUNT_RESPONSE })
  @ApiOperation({ summary: 'One account: plan, schedule (and pending changes), thresholds, the open cycle with its days left, live grants' })
  account(@Param('accountId', AccountIdPipe) accountId: string) {
    return this.queries.execute(new GetAccountQuery(accountId));
  }
}
