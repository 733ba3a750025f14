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
  {
    expiredAtReset: int(),
    carriedOver: int(),
    rolledOver: int(),
    overdrawn: int(),
    reservedAtReset: int('Held by open reservations at the boundary, released (cycle_reset) just before the close: counted in remaining, once'),
  },
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
const RATE_CARD_SCHEMA = objectOf({ feature: str(), creditType: str(), credits: int('Credits per unit') }, { action: str("Absent: the feature's default") });
export const PLAN_SCHEMA = objectOf(
  { creditTypes: mapOf(PLAN_CREDIT_TYPE_SCHEMA), cycle: SCHEDULE_SCHEMA },
  { planId: str(), rates: arrayOf(RATE_CARD_SCHEMA), clientPrices: { type: 'boolean' } },
);
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

export const RATE_SCHEMA = RATE_CARD_SCHEMA;
export const APPLIED_RATE_SCHEMA = nullable(
  objectOf({ feature: str(), action: nullable(str("null: the feature's default")), creditType: str(), credits: int('Credits per unit') }),
);
const PRICED_BY_SCHEMA = { type: 'string', enum: ['client', 'rate_card'], description: 'client: the client sent the credits; rate_card: rate x units' };
const CONSUMPTION_PROPERTIES = {
  consumptionId: str(),
  creditsCharged: int(),
  units: int(),
  pricedBy: PRICED_BY_SCHEMA,
  rate: { ...APPLIED_RATE_SCHEMA, description: 'The rate card entry it was priced at (null when client-priced)' },
  alreadyPurchased: { type: 'boolean' },
  balance: BALANCE_SCHEMA,
  position,
};

export const CONSUMPTION_RESPONSE = objectOf(CONSUMPTION_PROPERTIES);

export const BATCH_RESPONSE = objectOf({
  results: arrayOf(
    objectOf(
      { index: int(), status: { type: 'integer', enum: [200, 201, 400, 409] } },
      {
        ...CONSUMPTION_PROPERTIES,
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
  {
    planId: nullable(str()),
    creditTypes: mapOf(PLAN_CREDIT_TYPE_SCHEMA),
    rates: arrayOf(RATE_CARD_SCHEMA),
    clientPrices: { type: 'boolean' },
    pending: nullable({ type: 'object' }),
    ...BALANCES_PROPERTIES,
    position,
  },
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
    balances: arrayOf(
      objectOf({
        creditType: str(),
        ...BALANCE_FIGURES_PROPERTIES,
        reserved: int('Held by open reservations (not yet used)'),
        available: int('remaining - reserved: what consumptions, checks, member budgets and new reservations are decided on'),
        forecast: FORECAST_SCHEMA,
      }),
    ),
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

const MEMBER_BUDGET_SCHEMA = objectOf({
  used: int('Net credits charged to the member in the open cycle (refunds of this cycle given back)'),
  reserved: int("Held by the member's open reservations: counted against the limit"),
  limit: nullable(int('Credits per cycle; null: no limit')),
  limitSource: { type: 'string', enum: ['member', 'default', null], nullable: true, description: "member: their own; default: the account's; null: no limit" },
  remaining: nullable(int('limit - used - reserved (never below 0); null: no limit')),
});
export const MEMBER_SCHEMA = objectOf({
  userId: str(),
  cycleId: str(),
  creditTypes: mapOf(MEMBER_BUDGET_SCHEMA, 'Every credit type of the plan'),
  limits: mapOf(int(), "The member's own limits (credits per cycle); a type not listed uses the account default"),
});
export const MEMBER_RESPONSE = objectOf({ accountId: str(), ...(MEMBER_SCHEMA.properties as Record<string, Schema>) });
export const SET_MEMBER_LIMITS_RESPONSE = objectOf({ accountId: str(), ...(MEMBER_SCHEMA.properties as Record<string, Schema>), position });
export const SET_DEFAULT_LIMITS_RESPONSE = objectOf({
  accountId: str(),
  cycleId: str(),
  defaultLimits: mapOf(int(), 'Every member without a limit of their own for a credit type has this one'),
  position,
});
export const MEMBERS_RESPONSE = objectOf({
  accountId: str(),
  cycleId: str(),
  defaultLimits: mapOf(int()),
  items: arrayOf(MEMBER_SCHEMA),
  nextCursor: nullable(str('Pass back as cursor= for the next page; null on the last page')),
});

const RATE_CARD_PROPERTIES = { planId: nullable(str()), clientPrices: { type: 'boolean' }, rates: arrayOf(RATE_CARD_SCHEMA) };
export const RATES_RESPONSE = objectOf({
  accountId: str(),
  ...RATE_CARD_PROPERTIES,
  pending: nullable({ ...objectOf({ ...RATE_CARD_PROPERTIES, effectiveAt: instant() }), description: 'The rate card of a plan change at the next cycle' }),
});

export const CHECK_RESPONSE = objectOf(
  {
    allowed: { type: 'boolean' },
    creditType: nullable(str('null when no rate prices the action')),
    credits: nullable(int('What the consumption would charge (0 for a dataKey already bought); null when it cannot be priced')),
    remaining: nullable(int("The credit type's remaining balance now; null for an unknown credit type")),
    reserved: nullable(int('Held by open reservations; null for an unknown credit type')),
    available: nullable(int('remaining - reserved: what the spend is decided on; null for an unknown credit type')),
    memberRemaining: nullable(int('What the member may still spend of it this cycle; null: no limit')),
    alreadyPurchased: { type: 'boolean' },
  },
  {
    reason: {
      type: 'string',
      enum: ['INSUFFICIENT_CREDITS', 'MEMBER_LIMIT_EXCEEDED', 'NO_RATE_FOR_ACTION', 'UNKNOWN_CREDIT_TYPE'],
      description: 'Only when not allowed',
    },
  },
);

export const HELD_BALANCE_SCHEMA = objectOf({
  creditType: str(),
  ...BALANCE_FIGURES_PROPERTIES,
  reserved: int('Held by open reservations'),
  available: int('remaining - reserved'),
});
export const RESERVATION_SCHEMA = objectOf({
  reservationId: str(),
  status: { type: 'string', enum: ['open', 'captured', 'released', 'expired'] },
  userId: str(),
  creditType: str(),
  feature: str(),
  action: str(),
  units: int(),
  pricedBy: PRICED_BY_SCHEMA,
  rate: { ...APPLIED_RATE_SCHEMA, description: 'The rate card entry it was priced at (null when client-priced)' },
  credits: int('Credits held (0 when the dataKey was already bought)'),
  alreadyPurchased: { type: 'boolean' },
  description: nullable(str()),
  dataKey: nullable(str()),
  cycleId: str(),
  reservedAt: instant(),
  expiresAt: instant(),
  closedAt: nullable(instant('When it was captured, released or expired')),
  consumptionId: nullable(str('The consumption a capture recorded')),
  captured: nullable(int('Credits captured (0 for a release or an expiry); null while open')),
  released: nullable(int('Credits given back when it ended; null while open')),
  reason: nullable(str('The release reason (cycle_reset: released by a cycle reset)')),
});
export const RESERVATION_RESPONSE = objectOf({
  ...(RESERVATION_SCHEMA.properties as Record<string, Schema>),
  balance: { ...HELD_BALANCE_SCHEMA, description: 'The figures right after the hold' },
  position,
});
export const CAPTURE_RESPONSE = objectOf({
  ...(RESERVATION_SCHEMA.properties as Record<string, Schema>),
  consumption: objectOf(CONSUMPTION_PROPERTIES),
  position,
});
export const RELEASE_RESPONSE = objectOf({ ...(RESERVATION_SCHEMA.properties as Record<string, Schema>), position });
export const RESERVATION_READ_RESPONSE = objectOf({ accountId: str(), ...(RESERVATION_SCHEMA.properties as Record<string, Schema>) });
export const RESERVATIONS_RESPONSE = objectOf({
  accountId: str(),
  items: arrayOf(RESERVATION_SCHEMA),
  nextCursor: nullable(str('Pass back as cursor= (with the same filters) for the next page; null on the last page')),
});
