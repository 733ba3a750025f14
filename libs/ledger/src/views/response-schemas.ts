/**
 * JSON schemas (OpenAPI 3.0) of the ledger's answers, referenced by the controllers' @ApiResponse.
 * The HTTP e2e suites validate every real answer against them, so they cannot drift.
 */
type Schema = Record<string, unknown>;

export const int = (description?: string): Schema => ({ type: 'integer', ...(description ? { description } : {}) });
export const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
export const instant = (description?: string): Schema => ({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
export const nullable = (schema: Schema): Schema => ({ ...schema, nullable: true });
export const arrayOf = (items: Schema): Schema => ({ type: 'array', items });
export const mapOf = (values: Schema, description?: string): Schema => ({
  type: 'object',
  additionalProperties: values,
  ...(description ? { description } : {}),
});
/** An object whose listed properties are all present. */
export const objectOf = (properties: Record<string, Schema>, optional: Record<string, Schema> = {}): Schema => ({
  type: 'object',
  required: Object.keys(properties),
  properties: { ...properties, ...optional },
});

export const BALANCE_FIGURES_PROPERTIES = {
  allocated: int(),
  rolledIn: int(),
  granted: int(),
  used: int(),
  refunded: int(),
  expired: int(),
  remaining: int('May be negative under an overdraft'),
};
export const BALANCE_FIGURES_SCHEMA = objectOf(BALANCE_FIGURES_PROPERTIES);
export const BALANCE_SCHEMA = objectOf({ creditType: str(), ...BALANCE_FIGURES_PROPERTIES });
export const CLOSING_SCHEMA = objectOf(
  { creditType: str(), ...BALANCE_FIGURES_PROPERTIES },
  { expiredAtReset: int(), carriedOver: int(), rolledOver: int(), overdrawn: int() },
);
export const PLAN_CREDIT_TYPE_SCHEMA = objectOf(
  { allocation: int() },
  {
    overdraft: objectOf({ policy: { type: 'string', enum: ['deny', 'allow'] } }, { limit: int() }),
    rollover: { type: 'object', properties: { maxCredits: int(), maxPercent: int(), expiresAfterCycles: int() } },
  },
);
export const SCHEDULE_SCHEMA = objectOf(
  { period: { type: 'string', enum: ['month', 'week', 'day'] }, timezone: str() },
  { every: int(), anchorDay: { oneOf: [int(), { type: 'string', enum: ['last'] }] }, anchorDate: str() },
);
export const PLAN_SCHEMA = objectOf({ creditTypes: mapOf(PLAN_CREDIT_TYPE_SCHEMA), cycle: SCHEDULE_SCHEMA }, { planId: str() });
const CYCLE_REF_SCHEMA = objectOf({ cycleId: str(), startedAt: instant(), endsAt: instant() });
const position = int('Global position of the last event written (pass it as minPosition to read your own write)');

export const OPEN_ACCOUNT_RESPONSE = objectOf({
  accountId: str(),
  name: str(),
  plan: PLAN_SCHEMA,
  cycle: CYCLE_REF_SCHEMA,
  balances: arrayOf(BALANCE_SCHEMA),
  openedAt: instant(),
  position,
});

export const CONSUMPTION_RESPONSE = objectOf({
  consumptionId: str(),
  creditsCharged: int(),
  alreadyPurchased: { type: 'boolean' },
  balance: BALANCE_SCHEMA,
  position,
});

export const BATCH_RESPONSE = objectOf({
  results: arrayOf(
    objectOf(
      { index: int(), status: { type: 'integer', enum: [200, 201, 400, 409] } },
      {
        consumptionId: str(),
        creditsCharged: int(),
        alreadyPurchased: { type: 'boolean' },
        balance: BALANCE_SCHEMA,
        position,
        error: str('The code of a refused item'),
        message: str(),
        details: {},
      },
    ),
  ),
});

export const REFUND_RESPONSE = objectOf({ refundId: str(), consumptionId: str(), creditsRefunded: int(), balance: BALANCE_SCHEMA, position });

export const GRANT_RESPONSE = objectOf({
  grantId: str(),
  creditType: str(),
  credits: int(),
  expiresAt: nullable(instant()),
  priority: int(),
  balance: BALANCE_SCHEMA,
  position,
});

export const RESET_CYCLE_RESPONSE = objectOf({
  cycleId: str(),
  previousCycleId: nullable(str()),
  startedAt: instant(),
  endsAt: instant(),
  allocations: mapOf(int()),
  closing: arrayOf(CLOSING_SCHEMA),
  position,
});

const BALANCES_PROPERTIES = {
  accountId: str(),
  cycleId: str(),
  cycleStartedAt: instant(),
  cycleEndsAt: instant(),
  balances: arrayOf(BALANCE_SCHEMA),
};

export const CHANGE_PLAN_RESPONSE = objectOf(
  { planId: nullable(str()), creditTypes: mapOf(PLAN_CREDIT_TYPE_SCHEMA), pending: nullable({ type: 'object' }), ...BALANCES_PROPERTIES, position },
  { lastChange: nullable({ type: 'object', description: 'The plan change applied now: per credit type, the prorated adjustment' }) },
);

export const CHANGE_SCHEDULE_RESPONSE = objectOf({
  accountId: str(),
  schedule: SCHEDULE_SCHEMA,
  pendingSchedule: nullable(SCHEDULE_SCHEMA),
  effectiveAt: instant(),
  cycle: CYCLE_REF_SCHEMA,
  position,
});

const THRESHOLD_SCHEMA = objectOf({ kind: { type: 'string', enum: ['percent_used', 'remaining'] }, value: int() });
export const SET_THRESHOLDS_RESPONSE = objectOf({
  accountId: str(),
  cycleId: str(),
  creditTypes: mapOf(objectOf({ thresholds: arrayOf(THRESHOLD_SCHEMA), default: { type: 'boolean' }, alerted: arrayOf(str()) })),
  position,
});

export const CYCLES_RESPONSE = objectOf({
  accountId: str(),
  currentCycleId: str(),
  total: int(),
  items: arrayOf(
    objectOf({
      cycleId: str(),
      previousCycleId: nullable(str()),
      trigger: str('open, manual, scheduled, ...'),
      startedAt: instant(),
      endsAt: instant(),
      allocations: mapOf(int()),
      status: { type: 'string', enum: ['open', 'closed'] },
      closedAt: nullable(instant()),
      closing: nullable(arrayOf(CLOSING_SCHEMA)),
    }),
  ),
});

export const ALERTS_RESPONSE = objectOf({
  accountId: str(),
  total: int(),
  items: arrayOf(
    objectOf({
      occurredAt: instant(),
      creditType: str(),
      cycleId: str(),
      thresholdId: str(),
      threshold: THRESHOLD_SCHEMA,
      percentUsed: nullable(int()),
      balance: BALANCE_SCHEMA,
    }),
  ),
});

export const FORECAST_SCHEMA = objectOf({
  dailyBurn: {
    type: 'number',
    format: 'double',
    description: 'Average net credits used per day over the last 7 UTC days (or since the cycle started), two decimals',
  },
  projectedDepletionAt: nullable(instant('When the remaining credits run out at that pace; null when they last the cycle')),
  lastsCycle: { type: 'boolean' },
});

export const BALANCES_RESPONSE = objectOf(
  {
    ...BALANCES_PROPERTIES,
    balances: arrayOf(objectOf({ creditType: str(), ...BALANCE_FIGURES_PROPERTIES, forecast: FORECAST_SCHEMA })),
    revision: int('Stream revision of the last event folded'),
  },
  { asOf: instant('Given with asOf: the instant asked for'), position: int('Given with asOf: global position of the last event folded') },
);

export const EVENTS_RESPONSE = objectOf({
  accountId: str(),
  items: arrayOf(
    objectOf({
      position: int(),
      revision: int(),
      eventId: str(),
      type: str(),
      data: { type: 'object', description: 'The event as stored (no upcasting)' },
      metadata: objectOf({ schemaVersion: int(), occurredAt: instant(), recordedAt: instant(), actor: str(), correlationId: str() }, { causationId: str() }),
    }),
  ),
  nextAfter: nullable(int('Pass as after= for the next page; null on the last page')),
  streamRevision: int('Revision of the last event of this page (-1 when the page is empty)'),
});
