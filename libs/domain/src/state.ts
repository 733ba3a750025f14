import { canonicalJson } from './canonical';
import {
  BalanceFigures,
  BucketMovement,
  ClosingFigures,
  CycleResetData,
  LedgerEvent,
  PlanChangedData,
  ScheduleChangedData,
} from './events';
import { CreditTypePlan, Plan } from './plan';
import { CycleSchedule, sameSchedule } from './schedule';
import { Threshold } from './thresholds';

/** A source of credits: the cycle allocation, one grant, or rolled-over allocation. Drawn in `bucketOrder`. */
export interface Bucket {
  readonly id: string;
  readonly kind: 'cycle' | 'grant' | 'rollover';
  readonly remaining: number;
  readonly expiresAt: string | null;
  readonly createdAt: string;
  readonly priority: number;
}

export interface CreditTypeState {
  readonly figures: BalanceFigures;
  readonly buckets: readonly Bucket[];
  /** Threshold ids already alerted in the current cycle (once per threshold per cycle). */
  readonly alerted: readonly string[];
}

export interface ConsumptionRecord {
  /** The client's fields, kept to recognise a retry (same id, same payload). */
  readonly request: ConsumptionRequest;
  readonly occurredAt: string;
  readonly userId: string;
  readonly creditType: string;
  readonly feature: string;
  readonly action: string;
  readonly dataKey: string | null;
  readonly creditsCharged: number;
  readonly alreadyPurchased: boolean;
  readonly creditsRefunded: number;
  /** Per bucket, what a refund can still give back (draws minus earlier refunds). */
  readonly outstanding: readonly BucketMovement[];
  readonly balanceAfter: BalanceFigures;
}

export interface RefundRecord {
  readonly fingerprint: string;
  readonly consumptionId: string;
  readonly creditType: string;
  readonly credits: number;
  readonly balanceAfter: BalanceFigures;
}

export interface GrantRecord {
  readonly fingerprint: string;
  readonly creditType: string;
  readonly credits: number;
  readonly expiresAt: string | null;
  readonly priority: number;
  readonly grantedAt: string;
  readonly balanceAfter: BalanceFigures;
}

export interface CycleRecord {
  readonly cycleId: string;
  readonly fingerprint: string;
  readonly previousCycleId: string | null;
  readonly trigger: 'open' | 'schedule' | 'manual';
  readonly startedAt: string;
  readonly endsAt: string;
  readonly allocations: Readonly<Record<string, number>>;
  /** Closing figures of the previous cycle (empty for the first cycle). */
  readonly closing: readonly ClosingFigures[];
  /** When this cycle was closed (null while open) and its own closing figures. */
  readonly closedAt: string | null;
  readonly closingFigures: readonly ClosingFigures[] | null;
}

export interface AlertRecord {
  readonly occurredAt: string;
  readonly creditType: string;
  readonly cycleId: string;
  readonly thresholdId: string;
  readonly threshold: Threshold;
  readonly percentUsed: number | null;
  readonly balanceAfter: BalanceFigures;
}

/**
 * The idempotency and purchase indexes of an account. They grow with every command, so evolve
 * adds to these maps in place instead of copying them (copying would make each fold O(n²)).
 * A state object is owned by one fold: callers that may need to discard a speculative
 * evolution (a failed append) reload the state from the store. Deciders that evolve a state
 * speculatively (a cycle reset before a movement) use `speculative(state)`, which copies the
 * parts a reset touches.
 */
export interface LedgerIndex {
  readonly consumptions: Map<string, ConsumptionRecord>;
  readonly refunds: Map<string, RefundRecord>;
  readonly grants: Map<string, GrantRecord>;
  readonly cycles: Map<string, CycleRecord>;
  /** `${creditType}\u0000${dataKey}` -> consumptionId that paid for it (while not fully refunded). */
  readonly purchases: Map<string, string>;
  /** Threshold crossings, oldest first. */
  readonly alerts: AlertRecord[];
}

export interface PendingPlan {
  readonly planId: string;
  readonly creditTypes: Readonly<Record<string, CreditTypePlan>>;
}

export interface NoAccount {
  readonly status: 'none';
}

export interface OpenAccountState {
  readonly status: 'open';
  readonly accountId: string;
  readonly name: string;
  /** The plan in force; `plan.cycle` is the schedule in force. */
  readonly plan: Plan;
  readonly openFingerprint: string;
  readonly openedAt: string;
  readonly cycleId: string;
  readonly cycleStartedAt: string;
  readonly cycleEndsAt: string;
  readonly creditTypes: Readonly<Record<string, CreditTypeState>>;
  /** A plan change that takes effect at the next reset. */
  readonly pendingPlan: PendingPlan | null;
  /** A schedule change that takes effect at the next reset. */
  readonly pendingSchedule: CycleSchedule | null;
  /** Configured thresholds per credit type; a type not listed uses DEFAULT_THRESHOLDS. */
  readonly thresholds: Readonly<Record<string, readonly Threshold[]>>;
  readonly lastPlanChange: PlanChangedData | null;
  readonly lastScheduleChange: ScheduleChangedData | null;
  readonly index: LedgerIndex;
}

export type AccountState = NoAccount | OpenAccountState;

export const NO_ACCOUNT: NoAccount = { status: 'none' };

export function initialState(): AccountState {
  return NO_ACCOUNT;
}

export function purchaseKey(creditType: string, dataKey: string): string {
  return `${creditType}\u0000${dataKey}`;
}

export function openAccountFingerprint(name: string, plan: Plan): string {
  return canonicalJson({ name, plan });
}

export function cycleBucketId(cycleId: string): string {
  return `cycle:${cycleId}`;
}

export function grantBucketId(grantId: string): string {
  return `grant:${grantId}`;
}

export function rolloverBucketId(fromCycleId: string): string {
  return `rollover:${fromCycleId}`;
}

export function zeroFigures(allocated: number, granted = 0, rolledIn = 0): BalanceFigures {
  return { allocated, rolledIn, granted, used: 0, refunded: 0, expired: 0, remaining: allocated + rolledIn + granted };
}

/** Burn-down order: priority (high first), then soonest expiry (never-expiring last), then oldest, then id. */
export function bucketOrder(a: Bucket, b: Bucket): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.expiresAt !== b.expiresAt) {
    if (a.expiresAt === null) return 1;
    if (b.expiresAt === null) return -1;
    return a.expiresAt < b.expiresAt ? -1 : 1;
  }
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function moveBuckets(buckets: readonly Bucket[], movements: readonly BucketMovement[], sign: 1 | -1): Bucket[] {
  const next = buckets.map((b) => ({ ...b }));
  for (const m of movements) {
    const bucket = next.find((b) => b.id === m.bucketId);
    if (!bucket) throw new Error(`bucket ${m.bucketId} is not live: the event contradicts the state`);
    (bucket as { remaining: number }).remaining += sign * m.credits;
  }
  return next;
}

function subtractMovements(from: readonly BucketMovement[], minus: readonly BucketMovement[]): BucketMovement[] {
  const left = new Map<string, number>();
  for (const m of from) left.set(m.bucketId, (left.get(m.bucketId) ?? 0) + m.credits);
  let unmatched = 0;
  for (const m of minus) {
    const have = left.get(m.bucketId);
    if (have === undefined) unmatched += m.credits;
    else left.set(m.bucketId, have - m.credits);
  }
  // A refund routed to the current cycle (its source bucket lapsed) is taken off the newest draws first.
  const entries = [...left.entries()];
  for (let i = entries.length - 1; i >= 0 && unmatched > 0; i--) {
    const take = Math.min(entries[i][1], unmatched);
    entries[i][1] -= take;
    unmatched -= take;
  }
  return entries.filter(([, c]) => c > 0).map(([bucketId, credits]) => ({ bucketId, credits }));
}

function withCreditType(
  state: OpenAccountState,
  creditType: string,
  next: Omit<CreditTypeState, 'alerted'> & { alerted?: readonly string[] },
  extra: Partial<OpenAccountState> = {},
): OpenAccountState {
  const alerted = next.alerted ?? state.creditTypes[creditType]?.alerted ?? [];
  return { ...state, ...extra, creditTypes: { ...state.creditTypes, [creditType]: { figures: next.figures, buckets: next.buckets, alerted } } };
}

function cycleBucket(cycleId: string, allocation: number, startedAt: string, endsAt: string): Bucket {
  return { id: cycleBucketId(cycleId), kind: 'cycle', remaining: allocation, expiresAt: endsAt, createdAt: startedAt, priority: 0 };
}

/**
 * A copy of the state that a decider may evolve with cycle resets and expiries without touching
 * the caller's state (resets write the cycle index and the alert list, which are copied here).
 */
export function speculative(state: OpenAccountState): OpenAccountState {
  return { ...state, index: { ...state.index, cycles: new Map(state.index.cycles), alerts: [...state.index.alerts] } };
}

/** Applies one event to the state of its account. */
export function evolve(state: AccountState, event: LedgerEvent): AccountState {
  switch (event.type) {
    case 'AccountOpened': {
      const d = event.data;
      const creditTypes: Record<string, CreditTypeState> = {};
      const allocations: Record<string, number> = {};
      for (const [creditType, p] of Object.entries(d.plan.creditTypes)) {
        allocations[creditType] = p.allocation;
        creditTypes[creditType] = {
          figures: zeroFigures(p.allocation),
          buckets: [cycleBucket(d.cycleId, p.allocation, d.cycleStartedAt, d.cycleEndsAt)],
          alerted: [],
        };
      }
      const index: LedgerIndex = {
        consumptions: new Map(),
        refunds: new Map(),
        grants: new Map(),
        cycles: new Map(),
        purchases: new Map(),
        alerts: [],
      };
      index.cycles.set(d.cycleId, {
        cycleId: d.cycleId,
        fingerprint: canonicalJson(null),
        previousCycleId: null,
        trigger: 'open',
        startedAt: d.cycleStartedAt,
        endsAt: d.cycleEndsAt,
        allocations,
        closing: [],
        closedAt: null,
        closingFigures: null,
      });
      return {
        status: 'open',
        accountId: d.accountId,
        name: d.name,
        plan: d.plan,
        openFingerprint: openAccountFingerprint(d.name, d.plan),
        openedAt: event.occurredAt,
        cycleId: d.cycleId,
        cycleStartedAt: d.cycleStartedAt,
        cycleEndsAt: d.cycleEndsAt,
        creditTypes,
        pendingPlan: null,
        pendingSchedule: null,
        thresholds: {},
        lastPlanChange: null,
        lastScheduleChange: null,
        index,
      };
    }
    case 'CreditConsumed': {
      const s = requireOpen(state, event.type);
      const d = event.data;
      const ct = s.creditTypes[d.creditType];
      s.index.consumptions.set(d.consumptionId, {
        request: d,
        occurredAt: event.occurredAt,
        userId: d.userId,
        creditType: d.creditType,
        feature: d.feature,
        action: d.action,
        dataKey: d.dataKey,
        creditsCharged: d.creditsCharged,
        alreadyPurchased: d.alreadyPurchased,
        creditsRefunded: 0,
        outstanding: d.drawnFrom,
        balanceAfter: d.balanceAfter,
      });
      if (d.dataKey !== null && d.creditsCharged > 0) {
        s.index.purchases.set(purchaseKey(d.creditType, d.dataKey), d.consumptionId);
      }
      if (d.creditsCharged === 0) return s;
      return withCreditType(s, d.creditType, {
        figures: { ...ct.figures, used: ct.figures.used + d.creditsCharged, remaining: ct.figures.remaining - d.creditsCharged },
        buckets: moveBuckets(ct.buckets, d.drawnFrom, -1),
      });
    }
    case 'CreditRefunded': {
      const s = requireOpen(state, event.type);
      const d = event.data;
      const ct = s.creditTypes[d.creditType];
      const consumption = s.index.consumptions.get(d.consumptionId);
      if (!consumption) throw new Error(`refund ${d.refundId} of unknown consumption ${d.consumptionId}`);
      s.index.consumptions.set(d.consumptionId, {
        ...consumption,
        creditsRefunded: consumption.creditsRefunded + d.credits,
        outstanding: subtractMovements(consumption.outstanding, d.returnedTo),
      });
      if (d.consumptionFullyRefunded && consumption.dataKey !== null) {
        const key = purchaseKey(consumption.creditType, consumption.dataKey);
        if (s.index.purchases.get(key) === d.consumptionId) s.index.purchases.delete(key);
      }
      s.index.refunds.set(d.refundId, {
        fingerprint: refundFingerprint(d.consumptionId, d.creditsRequested, d.reason),
        consumptionId: d.consumptionId,
        creditType: d.creditType,
        credits: d.credits,
        balanceAfter: d.balanceAfter,
      });
      // A grant used up and closed at a reset is reopened by a refund (same expiry, same priority).
      let buckets = ct.buckets;
      for (const m of d.returnedTo) {
        if (buckets.some((b) => b.id === m.bucketId) || !m.bucketId.startsWith('grant:')) continue;
        const g = s.index.grants.get(m.bucketId.slice('grant:'.length));
        if (g) buckets = [...buckets, { id: m.bucketId, kind: 'grant', remaining: 0, expiresAt: g.expiresAt, createdAt: g.grantedAt, priority: g.priority }];
      }
      return withCreditType(s, d.creditType, {
        figures: { ...ct.figures, refunded: ct.figures.refunded + d.credits, remaining: ct.figures.remaining + d.credits },
        buckets: moveBuckets(buckets, d.returnedTo, 1),
      });
    }
    case 'CreditsGranted': {
      const s = requireOpen(state, event.type);
      const d = event.data;
      const ct = s.creditTypes[d.creditType];
      s.index.grants.set(d.grantId, {
        fingerprint: grantFingerprint(d.creditType, d.credits, d.reason, d.expiresAt, d.priority),
        creditType: d.creditType,
        credits: d.credits,
        expiresAt: d.expiresAt,
        priority: d.priority,
        grantedAt: event.occurredAt,
        balanceAfter: d.balanceAfter,
      });
      return withCreditType(s, d.creditType, {
        figures: { ...ct.figures, granted: ct.figures.granted + d.credits, remaining: ct.figures.remaining + d.credits },
        buckets: [
          ...ct.buckets,
          { id: grantBucketId(d.grantId), kind: 'grant', remaining: d.credits, expiresAt: d.expiresAt, createdAt: event.occurredAt, priority: d.priority },
        ],
      });
    }
    case 'CreditsExpired': {
      const s = requireOpen(state, event.type);
      const d = event.data;
      const ct = s.creditTypes[d.creditType];
      return withCreditType(s, d.creditType, {
        figures: { ...ct.figures, expired: ct.figures.expired + d.credits, remaining: ct.figures.remaining - d.credits },
        buckets: ct.buckets.filter((b) => b.id !== d.bucketId),
      });
    }
    case 'CycleReset':
      return evolveCycleReset(requireOpen(state, event.type), event.data);
    case 'PlanChanged': {
      const s = requireOpen(state, event.type);
      const d = event.data;
      if (d.effective === 'next_cycle') {
        return { ...s, pendingPlan: { planId: d.planId, creditTypes: d.creditTypes }, lastPlanChange: d };
      }
      const creditTypes: Record<string, CreditTypeState> = { ...s.creditTypes };
      const cycleId = cycleBucketId(s.cycleId);
      for (const a of d.adjustments) {
        const ct = creditTypes[a.creditType];
        if (!ct) {
          creditTypes[a.creditType] = {
            figures: a.balanceAfter,
            buckets: [cycleBucket(s.cycleId, a.change, s.cycleStartedAt, s.cycleEndsAt)],
            alerted: [],
          };
          continue;
        }
        const hasCycleBucket = ct.buckets.some((b) => b.id === cycleId);
        const buckets = hasCycleBucket
          ? ct.buckets.map((b) => (b.id === cycleId ? { ...b, remaining: b.remaining + a.change } : b))
          : [...ct.buckets, cycleBucket(s.cycleId, a.change, s.cycleStartedAt, s.cycleEndsAt)];
        creditTypes[a.creditType] = { figures: a.balanceAfter, buckets, alerted: ct.alerted };
      }
      return {
        ...s,
        plan: { ...s.plan, planId: d.planId, creditTypes: d.creditTypes },
        creditTypes,
        pendingPlan: null,
        lastPlanChange: d,
      };
    }
    case 'ScheduleChanged': {
      const s = requireOpen(state, event.type);
      const d = event.data;
      return { ...s, pendingSchedule: sameSchedule(d.schedule, s.plan.cycle) ? null : d.schedule, lastScheduleChange: d };
    }
    case 'ThresholdsSet': {
      const s = requireOpen(state, event.type);
      return { ...s, thresholds: event.data.creditTypes };
    }
    case 'CreditThresholdCrossed': {
      const s = requireOpen(state, event.type);
      const d = event.data;
      const ct = s.creditTypes[d.creditType];
      s.index.alerts.push({
        occurredAt: event.occurredAt,
        creditType: d.creditType,
        cycleId: d.cycleId,
        thresholdId: d.thresholdId,
        threshold: d.threshold,
        percentUsed: d.percentUsed,
        balanceAfter: d.balanceAfter,
      });
      return { ...s, creditTypes: { ...s.creditTypes, [d.creditType]: { ...ct, alerted: [...ct.alerted, d.thresholdId] } } };
    }
    default: {
      const unknown: never = event;
      throw new Error(`unknown event type ${(unknown as { type: string }).type}`);
    }
  }
}

function evolveCycleReset(s: OpenAccountState, d: CycleResetData): OpenAccountState {
  const creditTypes: Record<string, CreditTypeState> = {};
  for (const opening of d.opening) {
    const creditType = opening.creditType;
    const previous = s.creditTypes[creditType]?.buckets ?? [];
    const carried: Bucket[] = [];
    for (const g of d.carriedOverGrants) {
      if (g.creditType !== creditType) continue;
      const before = previous.find((b) => b.id === grantBucketId(g.grantId));
      if (!before) throw new Error(`carried grant ${g.grantId} is not live`);
      carried.push({ ...before, remaining: g.credits });
    }
    for (const r of d.rolledOver) {
      if (r.creditType !== creditType) continue;
      const before = previous.find((b) => b.id === r.bucketId);
      carried.push(
        before
          ? { ...before, remaining: r.credits }
          : { id: r.bucketId, kind: 'rollover', remaining: r.credits, expiresAt: r.expiresAt, createdAt: s.cycleStartedAt, priority: 0 },
      );
    }
    const { creditType: _, ...figures } = opening;
    creditTypes[creditType] = {
      figures,
      buckets: [cycleBucket(d.cycleId, d.allocations[creditType] ?? 0, d.startedAt, d.endsAt), ...carried],
      alerted: [],
    };
  }
  const previousRecord = s.index.cycles.get(d.previousCycleId);
  if (previousRecord) s.index.cycles.set(d.previousCycleId, { ...previousRecord, closedAt: d.startedAt, closingFigures: d.closing });
  s.index.cycles.set(d.cycleId, {
    cycleId: d.cycleId,
    fingerprint: canonicalJson(d.allocationsRequested),
    previousCycleId: d.previousCycleId,
    trigger: d.trigger,
    startedAt: d.startedAt,
    endsAt: d.endsAt,
    allocations: d.allocations,
    closing: d.closing,
    closedAt: null,
    closingFigures: null,
  });
  let plan = s.plan;
  if (d.planApplied) plan = { ...plan, planId: d.planApplied.planId, creditTypes: d.planApplied.creditTypes };
  if (d.scheduleApplied) plan = { ...plan, cycle: d.scheduleApplied };
  return {
    ...s,
    plan,
    pendingPlan: d.planApplied ? null : s.pendingPlan,
    pendingSchedule: d.scheduleApplied ? null : s.pendingSchedule,
    cycleId: d.cycleId,
    cycleStartedAt: d.startedAt,
    cycleEndsAt: d.endsAt,
    creditTypes,
  };
}

function requireOpen(state: AccountState, type: string): OpenAccountState {
  if (state.status !== 'open') throw new Error(`${type} on an account that was never opened`);
  return state;
}

/** What a client sent for a consumption: a retry must send the same. */
export interface ConsumptionRequest {
  readonly userId: string;
  readonly creditType: string;
  readonly feature: string;
  readonly action: string;
  readonly creditsRequested: number;
  readonly description: string | null;
  readonly dataRequested: string | null;
  readonly dataKey: string | null;
}

/** Field by field (no string building: this runs for every consumption on the hot path). */
export function sameConsumptionRequest(a: ConsumptionRequest, b: ConsumptionRequest): boolean {
  return (
    a.userId === b.userId &&
    a.creditType === b.creditType &&
    a.feature === b.feature &&
    a.action === b.action &&
    a.creditsRequested === b.creditsRequested &&
    a.description === b.description &&
    a.dataRequested === b.dataRequested &&
    a.dataKey === b.dataKey
  );
}

export function refundFingerprint(consumptionId: string, creditsRequested: number | null, reason: string): string {
  return JSON.stringify([consumptionId, creditsRequested, reason]);
}

export function grantFingerprint(creditType: string, credits: number, reason: string, expiresAt: string | null, priority: number): string {
  return JSON.stringify([creditType, credits, reason, expiresAt, priority]);
}

/** Folds events into a state: the balance of every credit type is, by construction, this fold. */
export function fold(events: Iterable<LedgerEvent>, state: AccountState = initialState()): AccountState {
  let s = state;
  for (const e of events) s = evolve(s, e);
  return s;
}
