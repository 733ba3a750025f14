import { arrayOf, instant, int, nullable, objectOf, str } from '@credit-ledger/ledger';

/** JSON schemas (OpenAPI 3.0) of the read-model answers; the HTTP e2e suites validate every answer against them. */
const TOTALS_PROPERTIES = { consumed: int(), refunded: int(), net: int(), count: int() };
const TOTALS = objectOf(TOTALS_PROPERTIES);
const RANGE_PROPERTIES = { accountId: str(), from: instant(), to: instant() };

export const HISTORY_ITEM_SCHEMA = objectOf({
  rowId: int(),
  position: int(),
  occurredAt: instant(),
  recordedAt: instant(),
  kind: str('consumption, refund, grant, cycle_reset, plan_change, expiry, threshold_alert, member_limit; with includeHolds: hold, hold_release, hold_expiry'),
  creditType: nullable(str()),
  feature: nullable(str()),
  action: nullable(str()),
  description: nullable(str()),
  credits: int('Signed: negative when credits left the balance'),
  dataRequested: nullable(str()),
  userId: nullable(str()),
  consumptionId: nullable(str()),
  refundId: nullable(str()),
  grantId: nullable(str()),
  cycleId: nullable(str()),
  alreadyPurchased: { type: 'boolean' },
  dataKey: nullable(str('The datum a consumption bought or accessed (its dataKey); null for other rows')),
  eventId: str(),
  units: nullable(int('Consumptions: units of the action')),
  rate: nullable(int('Consumptions priced by the rate card: credits per unit')),
  pricedBy: { type: 'string', enum: ['client', 'rate_card', null], nullable: true, description: 'Consumptions: who set the price' },
  reservationId: nullable(str('The reservation a consumption captured, or the reservation of a hold row')),
});

export const HISTORY_RESPONSE = objectOf({
  items: arrayOf(HISTORY_ITEM_SCHEMA),
  nextCursor: nullable(str('Pass back as cursor= (with the same filters) for the next page; null on the last page')),
});

export const USAGE_BY_USER_RESPONSE = objectOf({
  ...RANGE_PROPERTIES,
  creditType: nullable(str()),
  items: arrayOf(objectOf({ userId: str(), ...TOTALS_PROPERTIES })),
  totals: TOTALS,
});

export const USAGE_BY_FEATURE_RESPONSE = objectOf({
  ...RANGE_PROPERTIES,
  creditType: nullable(str()),
  items: arrayOf(objectOf({ feature: str(), action: str(), ...TOTALS_PROPERTIES, distinctUsers: int() })),
  totals: TOTALS,
});

export const USAGE_SERIES_RESPONSE = objectOf({
  ...RANGE_PROPERTIES,
  bucket: { type: 'string', enum: ['day', 'week', 'month'] },
  groupBy: str(),
  timezone: str(),
  buckets: arrayOf(objectOf({ start: instant(), end: instant(), label: str('Local date of the bucket start') })),
  series: arrayOf(objectOf({ key: str(), points: arrayOf(objectOf({ bucket: str(), ...TOTALS_PROPERTIES })) })),
  totals: TOTALS,
});

export const FILTERS_RESPONSE = objectOf({
  accountId: str(),
  features: arrayOf(objectOf({ feature: str(), actions: arrayOf(str()) })),
  actions: arrayOf(str()),
  users: arrayOf(str()),
  creditTypes: arrayOf(str()),
});
