import { emptyRecord, ownValue } from './limits';
import { canonicalJson } from './canonical';
import {
  AccountOpened,
  BucketMovement,
  CreditConsumed,
  CreditRefunded,
  CreditsExpired,
  CreditsGranted,
  CreditThresholdCrossed,
  CreditsReserved,
  CycleReset,
  HoldReturn,
  LedgerEvent,
  MemberLimitsSet,
  ReservationCaptured,
  ReservationExpired,
  ReservationReleased,
  PlanChanged,
  ScheduleChanged,
  ThresholdsSet,
} from './events';
import { addDailyNet } from './depletion-forecast';
import { PersistentMap } from './persistent-map';
import { memberAfterUse } from './members';
import { sameSchedule } from './schedule';
import {
  AccountState,
  Bucket,
  CreditTypeState,
  cycleBucketId,
  CycleRecord,
  grantBucketId,
  grantFingerprint,
  initialState,
  Holds,
  LedgerIndex,
  NO_HOLDS,
  OpenAccountState,
  ReservationRecord,
  openAccountFingerprint,
  purchaseKey,
  refundFingerprint,
  zeroFigures,
} from './state';

/**
 * Applies one event to the state of its account and returns the next state. Pure: the given
 * state is never changed (the indexes are persistent maps), so any earlier state stays valid.
 */
export function evolve(state: AccountState, event: LedgerEvent): AccountState {
  switch (event.type) {
    case 'AccountOpened':
      return evolveAccountOpened(event);
    case 'CreditConsumed':
      return evolveCreditConsumed(requireOpen(state, event.type), event);
    case 'CreditRefunded':
      return evolveCreditRefunded(requireOpen(state, event.type), event);
    case 'CreditsGranted':
      return evolveCreditsGranted(requireOpen(state, event.type), event);
    case 'CreditsExpired':
      return evolveCreditsExpired(requireOpen(state, event.type), event);
    case 'CycleReset':
      return evolveCycleReset(requireOpen(state, event.type), event);
    case 'PlanChanged':
      return evolvePlanChanged(requireOpen(state, event.type), event);
    case 'ScheduleChanged':
      return evolveScheduleChanged(requireOpen(state, event.type), event);
    case 'ThresholdsSet':
      return evolveThresholdsSet(requireOpen(state, event.type), event);
    case 'CreditThresholdCrossed':
      return evolveCreditThresholdCrossed(requireOpen(state, event.type), event);
    case 'MemberLimitsSet':
      return evolveMemberLimitsSet(requireOpen(state, event.type), event);
    case 'CreditsReserved':
      return evolveCreditsReserved(requireOpen(state, event.type), event);
    case 'ReservationCaptured':
      return evolveReservationCaptured(requireOpen(state, event.type), event);
    case 'ReservationReleased':
      return evolveReservationReleased(requireOpen(state, event.type), event);
    case 'ReservationExpired':
      return evolveReservationExpired(requireOpen(state, event.type), event);
    default: {
      const unknown: never = event;
      throw new Error(`unknown event type ${(unknown as { type: string }).type}`);
    }
  }
}

/** Folds events into a state: the balance of every credit type is, by construction, this fold. */
export function fold(events: Iterable<LedgerEvent>, state: AccountState = initialState()): AccountState {
  let folded = state;
  for (const event of events) folded = evolve(folded, event);
  return folded;
}

function requireOpen(state: AccountState, type: string): OpenAccountState {
  if (state.status !== 'open') throw new Error(`${type} on an account that was never opened`);
  return state;
}

export function evolveAccountOpened(event: AccountOpened): OpenAccountState {
  const data = event.data;
  const creditTypes = emptyRecord<CreditTypeState>();
  const allocations = emptyRecord<number>();
  for (const [creditType, plan] of Object.entries(data.plan.creditTypes)) {
    allocations[creditType] = plan.allocation;
    creditTypes[creditType] = {
      figures: zeroFigures(plan.allocation),
      buckets: [cycleBucket(data.cycleId, plan.allocation, data.cycleStartedAt, data.cycleEndsAt)],
      alerted: [],
    };
  }
  const firstCycle: CycleRecord = {
    cycleId: data.cycleId,
    fingerprint: canonicalJson(null),
    previousCycleId: null,
    trigger: 'open',
    startedAt: data.cycleStartedAt,
    endsAt: data.cycleEndsAt,
    allocations,
    closing: [],
    closedAt: null,
    closingFigures: null,
  };
  return {
    status: 'open',
    accountId: data.accountId,
    name: data.name,
    plan: data.plan,
    openFingerprint: openAccountFingerprint(data.name, data.plan),
    openedAt: event.occurredAt,
    cycleId: data.cycleId,
    cycleStartedAt: data.cycleStartedAt,
    cycleEndsAt: data.cycleEndsAt,
    creditTypes,
    pendingPlan: null,
    pendingSchedule: null,
    thresholds: {},
    defaultMemberLimits: {},
    lastPlanChange: null,
    lastScheduleChange: null,
    dailyNet: {},
    holds: NO_HOLDS,
    index: {
      reservations: PersistentMap.empty(),
      consumptions: PersistentMap.empty(),
      refunds: PersistentMap.empty(),
      grants: PersistentMap.empty(),
      cycles: PersistentMap.empty<string, CycleRecord>().set(data.cycleId, firstCycle),
      purchases: PersistentMap.empty(),
      alerts: [],
      members: PersistentMap.empty(),
    },
  };
}

export function evolveCreditConsumed(state: OpenAccountState, event: CreditConsumed): OpenAccountState {
  const data = event.data;
  const consumptions = state.index.consumptions.set(data.consumptionId, {
    request: data,
    occurredAt: event.occurredAt,
    userId: data.userId,
    creditType: data.creditType,
    feature: data.feature,
    action: data.action,
    dataKey: data.dataKey,
    cycleId: data.cycleId,
    units: data.units,
    pricedBy: data.pricedBy,
    rate: data.rate,
    creditsCharged: data.creditsCharged,
    alreadyPurchased: data.alreadyPurchased,
    creditsRefunded: 0,
    outstanding: data.drawnFrom,
    balanceAfter: data.balanceAfter,
  });
  const purchases =
    data.dataKey !== null && data.creditsCharged > 0
      ? state.index.purchases.set(purchaseKey(data.creditType, data.dataKey), data.consumptionId)
      : state.index.purchases;
  const member = memberAfterUse(state.index.members.get(data.userId), data.userId, data.cycleId, data.creditType, data.creditsCharged);
  const index = { ...state.index, consumptions, purchases, members: state.index.members.set(data.userId, member) };
  if (data.creditsCharged === 0) return { ...state, index };
  const creditType = state.creditTypes[data.creditType];
  // A capture's credits left the buckets when they were reserved: only the figures move now.
  const buckets = data.reservationId === null ? moveBuckets(creditType.buckets, data.drawnFrom, -1) : creditType.buckets;
  return withMovement(
    state,
    data.creditType,
    {
      figures: { ...creditType.figures, used: creditType.figures.used + data.creditsCharged, remaining: creditType.figures.remaining - data.creditsCharged },
      buckets,
    },
    index,
    event.occurredAt,
    data.creditsCharged,
  );
}

export function evolveCreditRefunded(state: OpenAccountState, event: CreditRefunded): OpenAccountState {
  const data = event.data;
  const creditType = state.creditTypes[data.creditType];
  const consumption = state.index.consumptions.get(data.consumptionId);
  if (!consumption) throw new Error(`refund ${data.refundId} of unknown consumption ${data.consumptionId}`);
  const consumptions = state.index.consumptions.set(data.consumptionId, {
    ...consumption,
    creditsRefunded: consumption.creditsRefunded + data.credits,
    outstanding: subtractMovements(consumption.outstanding, data.returnedTo),
  });
  let purchases = state.index.purchases;
  if (data.consumptionFullyRefunded && consumption.dataKey !== null) {
    const key = purchaseKey(consumption.creditType, consumption.dataKey);
    if (purchases.get(key) === data.consumptionId) purchases = purchases.delete(key);
  }
  const refunds = state.index.refunds.set(data.refundId, {
    fingerprint: refundFingerprint(data.consumptionId, data.creditsRequested, data.reason),
    consumptionId: data.consumptionId,
    creditType: data.creditType,
    credits: data.credits,
    balanceAfter: data.balanceAfter,
  });
  const buckets = reopenClosedGrants(state, creditType.buckets, data.returnedTo);
  // The member's room comes back only in the cycle the consumption was charged to: a closed cycle's use stays closed.
  const member = state.index.members.get(consumption.userId);
  const members =
    consumption.cycleId === state.cycleId && member !== undefined
      ? state.index.members.set(consumption.userId, memberAfterUse(member, consumption.userId, state.cycleId, data.creditType, -data.credits))
      : state.index.members;
  return withMovement(
    state,
    data.creditType,
    {
      figures: { ...creditType.figures, refunded: creditType.figures.refunded + data.credits, remaining: creditType.figures.remaining + data.credits },
      buckets: moveBuckets(buckets, data.returnedTo, 1),
    },
    { ...state.index, consumptions, purchases, refunds, members },
    event.occurredAt,
    -data.credits,
  );
}

export function evolveCreditsReserved(state: OpenAccountState, event: CreditsReserved): OpenAccountState {
  const data = event.data;
  const record: ReservationRecord = {
    reservationId: data.reservationId,
    request: {
      userId: data.userId,
      creditType: data.creditsRequested === null ? null : data.creditType,
      feature: data.feature,
      action: data.action,
      creditsRequested: data.creditsRequested,
      units: data.units,
      expiresInSeconds: data.expiresInSeconds,
      description: data.description,
      dataKey: data.dataKey,
    },
    userId: data.userId,
    creditType: data.creditType,
    feature: data.feature,
    action: data.action,
    units: data.units,
    pricedBy: data.pricedBy,
    rate: data.rate,
    credits: data.credits,
    alreadyPurchased: data.alreadyPurchased,
    reservedAt: event.occurredAt,
    expiresAt: data.expiresAt,
    cycleId: data.cycleId,
    status: 'open',
    closedAt: null,
    capture: null,
    captured: null,
    released: null,
    reason: null,
    balanceAfter: data.balanceAfter,
    reservedAfter: data.reservedAfter,
  };
  const hold = {
    reservationId: data.reservationId,
    userId: data.userId,
    creditType: data.creditType,
    credits: data.credits,
    expiresAt: data.expiresAt,
    heldFrom: data.heldFrom,
  };
  const holds: Holds = {
    open: [...state.holds.open, hold],
    reserved: { ...state.holds.reserved, [data.creditType]: data.reservedAfter },
    nextExpiry: state.holds.nextExpiry === null || data.expiresAt < state.holds.nextExpiry ? data.expiresAt : state.holds.nextExpiry,
  };
  const creditType = state.creditTypes[data.creditType];
  const index = { ...state.index, reservations: state.index.reservations.set(data.reservationId, record) };
  return {
    ...withCreditType(state, data.creditType, { figures: creditType.figures, buckets: moveBuckets(creditType.buckets, data.heldFrom, -1) }, index),
    holds,
  };
}

/** A hold ends: its credits leave `reserved`, the unused ones go back to their buckets (or lapse with them), the record is closed. */
function endHold(
  state: OpenAccountState,
  data: HoldReturn,
  closed: Partial<ReservationRecord> & { status: ReservationRecord['status']; closedAt: string },
): OpenAccountState {
  const record = state.index.reservations.get(data.reservationId);
  if (!record || record.status !== 'open') throw new Error(`reservation ${data.reservationId} is not open: the event contradicts the state`);
  const open = state.holds.open.filter((hold) => hold.reservationId !== data.reservationId);
  let nextExpiry = state.holds.nextExpiry;
  if (nextExpiry === record.expiresAt)
    nextExpiry = open.reduce<string | null>((soonest, hold) => (soonest === null || hold.expiresAt < soonest ? hold.expiresAt : soonest), null);
  const holds: Holds = { open, reserved: { ...state.holds.reserved, [data.creditType]: data.reservedAfter }, nextExpiry };
  const creditType = state.creditTypes[data.creditType];
  const figures =
    data.lapsed === 0
      ? creditType.figures
      : { ...creditType.figures, expired: creditType.figures.expired + data.lapsed, remaining: creditType.figures.remaining - data.lapsed };
  const index = { ...state.index, reservations: state.index.reservations.set(data.reservationId, { ...record, ...closed }) };
  return { ...withCreditType(state, data.creditType, { figures, buckets: moveBuckets(creditType.buckets, data.returnedTo, 1) }, index), holds };
}

export function evolveReservationCaptured(state: OpenAccountState, event: ReservationCaptured): OpenAccountState {
  const data = event.data;
  const consumption = state.index.consumptions.get(data.consumptionId);
  const capture = consumption
    ? {
        consumptionId: data.consumptionId,
        creditsRequested: consumption.request.creditsRequested,
        description: consumption.request.description,
        dataRequested: consumption.request.dataRequested,
      }
    : { consumptionId: data.consumptionId, creditsRequested: null, description: null, dataRequested: null };
  return endHold(state, data, { status: 'captured', closedAt: event.occurredAt, capture, captured: data.captured, released: data.released });
}

export function evolveReservationReleased(state: OpenAccountState, event: ReservationReleased): OpenAccountState {
  const data = event.data;
  return endHold(state, data, { status: 'released', closedAt: event.occurredAt, captured: 0, released: data.held, reason: data.reason });
}

export function evolveReservationExpired(state: OpenAccountState, event: ReservationExpired): OpenAccountState {
  const data = event.data;
  return endHold(state, data, { status: 'expired', closedAt: event.occurredAt, captured: 0, released: data.held });
}

/** A grant used up and closed at a reset is reopened by a refund (same expiry, same priority). */
function reopenClosedGrants(state: OpenAccountState, buckets: readonly Bucket[], returnedTo: readonly BucketMovement[]): readonly Bucket[] {
  let reopened = buckets;
  for (const movement of returnedTo) {
    if (reopened.some((bucket) => bucket.id === movement.bucketId) || !movement.bucketId.startsWith('grant:')) continue;
    const grant = state.index.grants.get(movement.bucketId.slice('grant:'.length));
    if (grant) {
      reopened = [
        ...reopened,
        { id: movement.bucketId, kind: 'grant', remaining: 0, expiresAt: grant.expiresAt, createdAt: grant.grantedAt, priority: grant.priority },
      ];
    }
  }
  return reopened;
}

export function evolveCreditsGranted(state: OpenAccountState, event: CreditsGranted): OpenAccountState {
  const data = event.data;
  const creditType = state.creditTypes[data.creditType];
  const grants = state.index.grants.set(data.grantId, {
    fingerprint: grantFingerprint(data.creditType, data.credits, data.reason, data.expiresAt, data.priority),
    creditType: data.creditType,
    credits: data.credits,
    expiresAt: data.expiresAt,
    priority: data.priority,
    grantedAt: event.occurredAt,
    balanceAfter: data.balanceAfter,
  });
  const grantBucket: Bucket = {
    id: grantBucketId(data.grantId),
    kind: 'grant',
    remaining: data.credits,
    expiresAt: data.expiresAt,
    createdAt: event.occurredAt,
    priority: data.priority,
  };
  return withCreditType(
    state,
    data.creditType,
    {
      figures: { ...creditType.figures, granted: creditType.figures.granted + data.credits, remaining: creditType.figures.remaining + data.credits },
      buckets: [...creditType.buckets, grantBucket],
    },
    { ...state.index, grants },
  );
}

export function evolveCreditsExpired(state: OpenAccountState, event: CreditsExpired): OpenAccountState {
  const data = event.data;
  const creditType = state.creditTypes[data.creditType];
  return withCreditType(state, data.creditType, {
    figures: { ...creditType.figures, expired: creditType.figures.expired + data.credits, remaining: creditType.figures.remaining - data.credits },
    buckets: creditType.buckets.filter((bucket) => bucket.id !== data.bucketId),
  });
}

export function evolveCycleReset(state: OpenAccountState, event: CycleReset): OpenAccountState {
  const data = event.data;
  const creditTypes = emptyRecord<CreditTypeState>();
  for (const opening of data.opening) {
    const { creditType, ...figures } = opening;
    const cycle = cycleBucket(data.cycleId, ownValue(data.allocations, creditType) ?? 0, data.startedAt, data.endsAt);
    creditTypes[creditType] = { figures, buckets: [cycle, ...carriedBuckets(state, event, creditType)], alerted: [] };
  }
  let cycles = state.index.cycles;
  const previousRecord = cycles.get(data.previousCycleId);
  if (previousRecord) cycles = cycles.set(data.previousCycleId, { ...previousRecord, closedAt: data.startedAt, closingFigures: data.closing });
  cycles = cycles.set(data.cycleId, {
    cycleId: data.cycleId,
    fingerprint: canonicalJson(data.allocationsRequested),
    previousCycleId: data.previousCycleId,
    trigger: data.trigger,
    startedAt: data.startedAt,
    endsAt: data.endsAt,
    allocations: data.allocations,
    closing: data.closing,
    closedAt: null,
    closingFigures: null,
  });
  let plan = state.plan;
  if (data.planApplied) {
    const applied = data.planApplied;
    plan = { ...plan, planId: applied.planId, creditTypes: applied.creditTypes, rates: applied.rates, clientPrices: applied.clientPrices };
  }
  if (data.scheduleApplied) plan = { ...plan, cycle: data.scheduleApplied };
  return {
    ...state,
    plan,
    pendingPlan: data.planApplied ? null : state.pendingPlan,
    pendingSchedule: data.scheduleApplied ? null : state.pendingSchedule,
    cycleId: data.cycleId,
    cycleStartedAt: data.startedAt,
    cycleEndsAt: data.endsAt,
    creditTypes,
    dailyNet: {},
    index: { ...state.index, cycles },
  };
}

/** The grant and rollover buckets of `creditType` that a reset carries into the new cycle. */
function carriedBuckets(state: OpenAccountState, event: CycleReset, creditType: string): Bucket[] {
  const previous = state.creditTypes[creditType]?.buckets ?? [];
  const carried: Bucket[] = [];
  for (const grant of event.data.carriedOverGrants) {
    if (grant.creditType !== creditType) continue;
    const before = previous.find((bucket) => bucket.id === grantBucketId(grant.grantId));
    if (!before) throw new Error(`carried grant ${grant.grantId} is not live`);
    carried.push({ ...before, remaining: grant.credits });
  }
  for (const rolled of event.data.rolledOver) {
    if (rolled.creditType !== creditType) continue;
    const before = previous.find((bucket) => bucket.id === rolled.bucketId);
    carried.push(
      before
        ? { ...before, remaining: rolled.credits }
        : { id: rolled.bucketId, kind: 'rollover', remaining: rolled.credits, expiresAt: rolled.expiresAt, createdAt: state.cycleStartedAt, priority: 0 },
    );
  }
  return carried;
}

export function evolvePlanChanged(state: OpenAccountState, event: PlanChanged): OpenAccountState {
  const data = event.data;
  const pricing = { rates: data.rates, clientPrices: data.clientPrices };
  if (data.effective === 'next_cycle') {
    return { ...state, pendingPlan: { planId: data.planId, creditTypes: data.creditTypes, ...pricing }, lastPlanChange: data };
  }
  const creditTypes = Object.assign(emptyRecord<CreditTypeState>(), state.creditTypes);
  const cycleId = cycleBucketId(state.cycleId);
  for (const adjustment of data.adjustments) {
    const creditType = ownValue(creditTypes, adjustment.creditType);
    const newCycleBucket = () => cycleBucket(state.cycleId, adjustment.change, state.cycleStartedAt, state.cycleEndsAt);
    if (!creditType) {
      creditTypes[adjustment.creditType] = { figures: adjustment.balanceAfter, buckets: [newCycleBucket()], alerted: [] };
      continue;
    }
    const hasCycleBucket = creditType.buckets.some((bucket) => bucket.id === cycleId);
    const buckets = hasCycleBucket
      ? creditType.buckets.map((bucket) => (bucket.id === cycleId ? { ...bucket, remaining: bucket.remaining + adjustment.change } : bucket))
      : [...creditType.buckets, newCycleBucket()];
    creditTypes[adjustment.creditType] = { figures: adjustment.balanceAfter, buckets, alerted: creditType.alerted };
  }
  return {
    ...state,
    plan: { ...state.plan, planId: data.planId, creditTypes: data.creditTypes, ...pricing },
    creditTypes,
    pendingPlan: null,
    lastPlanChange: data,
  };
}

export function evolveScheduleChanged(state: OpenAccountState, event: ScheduleChanged): OpenAccountState {
  const data = event.data;
  return { ...state, pendingSchedule: sameSchedule(data.schedule, state.plan.cycle) ? null : data.schedule, lastScheduleChange: data };
}

export function evolveThresholdsSet(state: OpenAccountState, event: ThresholdsSet): OpenAccountState {
  return { ...state, thresholds: event.data.creditTypes };
}

export function evolveCreditThresholdCrossed(state: OpenAccountState, event: CreditThresholdCrossed): OpenAccountState {
  const data = event.data;
  const creditType = state.creditTypes[data.creditType];
  const alert = {
    occurredAt: event.occurredAt,
    creditType: data.creditType,
    cycleId: data.cycleId,
    thresholdId: data.thresholdId,
    threshold: data.threshold,
    percentUsed: data.percentUsed,
    balanceAfter: data.balanceAfter,
  };
  return {
    ...state,
    creditTypes: { ...state.creditTypes, [data.creditType]: { ...creditType, alerted: [...creditType.alerted, data.thresholdId] } },
    index: { ...state.index, alerts: [...state.index.alerts, alert] },
  };
}

export function evolveMemberLimitsSet(state: OpenAccountState, event: MemberLimitsSet): OpenAccountState {
  const data = event.data;
  if (data.userId === null) return { ...state, defaultMemberLimits: data.limits };
  const member = state.index.members.get(data.userId);
  const record = member ? { ...member, limits: data.limits } : { userId: data.userId, cycleId: state.cycleId, used: {}, limits: data.limits };
  return { ...state, index: { ...state.index, members: state.index.members.set(data.userId, record) } };
}

function cycleBucket(cycleId: string, allocation: number, startedAt: string, endsAt: string): Bucket {
  return { id: cycleBucketId(cycleId), kind: 'cycle', remaining: allocation, expiresAt: endsAt, createdAt: startedAt, priority: 0 };
}

/** The state with new figures and buckets for `creditType` (and a new index), in one copy. */
function withCreditType(
  state: OpenAccountState,
  creditType: string,
  next: Pick<CreditTypeState, 'figures' | 'buckets'>,
  index: LedgerIndex = state.index,
): OpenAccountState {
  const alerted = state.creditTypes[creditType]?.alerted ?? [];
  return { ...state, creditTypes: { ...state.creditTypes, [creditType]: { figures: next.figures, buckets: next.buckets, alerted } }, index };
}

/**
 * `withCreditType` for a movement of `credits` (negative: given back), which also counts in the
 * open cycle's daily net, in one copy of the state: every consumption goes through here. A refund
 * made in a later cycle than its consumption counts in the burn of the cycle it is made in.
 */
function withMovement(
  state: OpenAccountState,
  creditType: string,
  next: Pick<CreditTypeState, 'figures' | 'buckets'>,
  index: LedgerIndex,
  occurredAt: string,
  credits: number,
): OpenAccountState {
  const alerted = state.creditTypes[creditType]?.alerted ?? [];
  const days = Object.hasOwn(state.dailyNet, creditType) ? state.dailyNet[creditType] : [];
  return {
    ...state,
    creditTypes: { ...state.creditTypes, [creditType]: { figures: next.figures, buckets: next.buckets, alerted } },
    dailyNet: { ...state.dailyNet, [creditType]: addDailyNet(days, occurredAt, credits) },
    index,
  };
}

function moveBuckets(buckets: readonly Bucket[], movements: readonly BucketMovement[], sign: 1 | -1): Bucket[] {
  const next = buckets.map((bucket) => ({ ...bucket }));
  for (const movement of movements) {
    const bucket = next.find((candidate) => candidate.id === movement.bucketId);
    if (!bucket) throw new Error(`bucket ${movement.bucketId} is not live: the event contradicts the state`);
    (bucket as { remaining: number }).remaining += sign * movement.credits;
  }
  return next;
}

function subtractMovements(from: readonly BucketMovement[], minus: readonly BucketMovement[]): BucketMovement[] {
  const left = new Map<string, number>();
  for (const movement of from) left.set(movement.bucketId, (left.get(movement.bucketId) ?? 0) + movement.credits);
  let unmatched = 0;
  for (const movement of minus) {
    const have = left.get(movement.bucketId);
    if (have === undefined) unmatched += movement.credits;
    else left.set(movement.bucketId, have - movement.credits);
  }
  // A refund routed to the current cycle (its source bucket lapsed) is taken off the newest draws first.
  const entries = [...left.entries()];
  for (let newest = entries.length - 1; newest >= 0 && unmatched > 0; newest--) {
    const take = Math.min(entries[newest][1], unmatched);
    entries[newest][1] -= take;
    unmatched -= take;
  }
  return entries.filter(([, credits]) => credits > 0).map(([bucketId, credits]) => ({ bucketId, credits }));
}
