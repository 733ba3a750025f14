import { CreditTypePlan, Plan, RateEntry } from './plan';
import { CycleSchedule } from './schedule';
import { Threshold } from './thresholds';

/**
 * Figures of one credit type in the current cycle:
 * remaining = allocated + rolledIn + granted - used + refunded - expired.
 */
export interface BalanceFigures {
  readonly allocated: number;
  /** Unused allocation of earlier cycles rolled into this one (still live). */
  readonly rolledIn: number;
  readonly granted: number;
  readonly used: number;
  readonly refunded: number;
  readonly expired: number;
  readonly remaining: number;
}

/** Credits taken from (or given back to) one bucket: `cycle:<cycleId>`, `grant:<grantId>` or `rollover:<cycleId>`. */
export interface BucketMovement {
  readonly bucketId: string;
  readonly credits: number;
}

export interface AccountOpenedData {
  readonly accountId: string;
  readonly name: string;
  readonly plan: Plan;
  readonly cycleId: string;
  readonly cycleStartedAt: string;
  readonly cycleEndsAt: string;
}

export interface CreditConsumedData {
  readonly consumptionId: string;
  readonly userId: string;
  readonly creditType: string;
  readonly feature: string;
  readonly action: string;
  readonly description: string | null;
  readonly dataRequested: string | null;
  readonly dataKey: string | null;
  /** The price the client asked to charge; null when priced by the rate card. */
  readonly creditsRequested: number | null;
  /** Units of the action (1 unless the client said otherwise). */
  readonly units: number;
  /** `client`: the client sent the credits; `rate_card`: rate.credits x units. */
  readonly pricedBy: PricedBy;
  /** The rate card entry in force at the decision (null when client-priced). */
  readonly rate: AppliedRate | null;
  /** What was charged: the price, or 0 when the dataKey was already paid for. */
  readonly creditsCharged: number;
  readonly alreadyPurchased: boolean;
  /** With alreadyPurchased: the consumption that paid for this dataKey. */
  readonly paidByConsumptionId: string | null;
  readonly cycleId: string;
  /** With a reservation: the held draws it took (the buckets were drawn when the credits were reserved). */
  readonly drawnFrom: readonly BucketMovement[];
  /** The reservation this consumption captured; null for a plain consumption. */
  readonly reservationId: string | null;
  readonly balanceAfter: BalanceFigures;
}

export type PricedBy = 'client' | 'rate_card';

/** The rate card entry a consumption was priced with (`action` null for a feature's default). */
export interface AppliedRate {
  readonly feature: string;
  readonly action: string | null;
  readonly creditType: string;
  readonly credits: number;
}

export interface CreditRefundedData {
  readonly refundId: string;
  readonly consumptionId: string;
  readonly userId: string;
  readonly creditType: string;
  readonly feature: string;
  readonly action: string;
  readonly credits: number;
  /** What the client asked for; null = "whatever is left of the charge". */
  readonly creditsRequested: number | null;
  readonly reason: string;
  readonly cycleId: string;
  readonly returnedTo: readonly BucketMovement[];
  readonly consumptionFullyRefunded: boolean;
  readonly balanceAfter: BalanceFigures;
}

export interface CreditsGrantedData {
  readonly grantId: string;
  readonly creditType: string;
  readonly credits: number;
  readonly reason: string;
  readonly expiresAt: string | null;
  /** Burn-down priority: higher is drawn first (the cycle allocation and rollovers are 0). */
  readonly priority: number;
  readonly cycleId: string;
  readonly balanceAfter: BalanceFigures;
}

export interface CreditsExpiredData {
  /** The lapsed bucket: `grant:<grantId>` or `rollover:<cycleId>`. */
  readonly bucketId: string;
  /** Set when the bucket is a grant. */
  readonly grantId: string | null;
  readonly creditType: string;
  readonly credits: number;
  readonly expiredAt: string;
  readonly cycleId: string;
  readonly balanceAfter: BalanceFigures;
}

/**
 * Closing figures of one credit type for the cycle that ends:
 * allocated + rolledIn + granted = used - refunded + remaining + expired, and
 * remaining = expiredAtReset + carriedOver + rolledOver - overdrawn.
 */
export interface ClosingFigures extends BalanceFigures {
  readonly creditType: string;
  /** Unused allocation that lapses at the reset (beyond the rollover cap). */
  readonly expiredAtReset: number;
  /** Unexpired grant remainders carried into the next cycle. */
  readonly carriedOver: number;
  /** Rollover credits carried into the next cycle (this cycle's capped unused allocation and live older rollovers). */
  readonly rolledOver: number;
  /** How far below zero the cycle ended (overdraft `allow`); the next cycle starts from its allocation. */
  readonly overdrawn: number;
  /**
   * Credits still held by open reservations at the boundary. They were released (`cycle_reset`)
   * just before the close, so they are counted in `remaining` (and from there in `expiredAtReset`,
   * `carriedOver` or `rolledOver`), never twice.
   */
  readonly reservedAtReset: number;
}

export interface OpeningFigures extends BalanceFigures {
  readonly creditType: string;
}

export interface RolledOverBucket {
  readonly bucketId: string;
  readonly creditType: string;
  readonly credits: number;
  readonly expiresAt: string;
}

export interface CycleResetData {
  readonly cycleId: string;
  readonly previousCycleId: string;
  readonly startedAt: string;
  readonly endsAt: string;
  /** `schedule`: closed at its boundary (billing job or the first movement after it); `manual`: POST /cycles. */
  readonly trigger: 'schedule' | 'manual';
  /** Allocations the client asked for; null = the plan's. */
  readonly allocationsRequested: Readonly<Record<string, number>> | null;
  readonly allocations: Readonly<Record<string, number>>;
  readonly closing: readonly ClosingFigures[];
  readonly carriedOverGrants: readonly { readonly grantId: string; readonly creditType: string; readonly credits: number }[];
  readonly rolledOver: readonly RolledOverBucket[];
  readonly opening: readonly OpeningFigures[];
  /** A plan change scheduled for the next cycle that takes effect with this reset. */
  readonly planApplied: AppliedPlan | null;
  /** A schedule change that takes effect with this reset. */
  readonly scheduleApplied: CycleSchedule | null;
}

/** A plan as a plan change sets it: allocations and pricing. */
export interface AppliedPlan {
  readonly planId: string;
  readonly creditTypes: Readonly<Record<string, CreditTypePlan>>;
  readonly rates: readonly RateEntry[];
  readonly clientPrices: boolean;
}

export interface PlanAdjustment {
  readonly creditType: string;
  readonly previousAllocation: number;
  readonly newAllocation: number;
  /** Credits added to (or, negative, removed from) the current cycle's allocation. */
  readonly change: number;
  /** The part of the cycle left when the change took effect: remainingMs / cycleMs. */
  readonly remainingMs: number;
  readonly cycleMs: number;
  /** Downgrades only: the prorated reduction before it was capped at the unused allocation. */
  readonly uncappedChange: number;
  readonly balanceAfter: BalanceFigures;
}

export interface PlanChangedData {
  readonly planId: string;
  readonly previousPlanId: string | null;
  readonly effective: 'now' | 'next_cycle';
  readonly effectiveAt: string;
  readonly cycleId: string;
  readonly creditTypes: Readonly<Record<string, CreditTypePlan>>;
  /** The new plan's rate card (sorted; empty: none). */
  readonly rates: readonly RateEntry[];
  readonly clientPrices: boolean;
  /** With effective now: what changed in the current cycle, per credit type. Empty for next_cycle. */
  readonly adjustments: readonly PlanAdjustment[];
}

export interface ScheduleChangedData {
  readonly schedule: CycleSchedule;
  readonly previousSchedule: CycleSchedule;
  /** The next boundary: the current cycle ends as planned, the new schedule applies from there. */
  readonly effectiveAt: string;
  readonly cycleId: string;
}

export interface ThresholdsSetData {
  /** Per credit type; a credit type not listed uses the defaults (80% and 100% used). */
  readonly creditTypes: Readonly<Record<string, readonly Threshold[]>>;
  readonly cycleId: string;
}

export interface CreditThresholdCrossedData {
  readonly creditType: string;
  readonly cycleId: string;
  readonly thresholdId: string;
  readonly threshold: Threshold;
  /** Percent of the allocation used (rounded down), null without an allocation. */
  readonly percentUsed: number | null;
  readonly balanceAfter: BalanceFigures;
}

export interface MemberLimitsSetData {
  /** The member, or null for the account's default (every member without a limit of their own for that type). */
  readonly userId: string | null;
  /** What was asked, per credit type: credits per cycle, or null to remove the limit. */
  readonly creditTypes: Readonly<Record<string, number | null>>;
  /** The limits at that level after the change. */
  readonly limits: Readonly<Record<string, number>>;
  readonly cycleId: string;
}

/** Credits held for work whose cost is not known yet: drawn from the buckets, not yet used. */
export interface CreditsReservedData {
  readonly reservationId: string;
  readonly userId: string;
  readonly creditType: string;
  readonly feature: string;
  readonly action: string;
  readonly description: string | null;
  readonly dataKey: string | null;
  /** The price the client asked to hold; null when priced by the rate card. */
  readonly creditsRequested: number | null;
  readonly units: number;
  readonly pricedBy: PricedBy;
  readonly rate: AppliedRate | null;
  /** Credits held (0 when the dataKey was already paid for). */
  readonly credits: number;
  readonly alreadyPurchased: boolean;
  readonly expiresInSeconds: number;
  readonly expiresAt: string;
  readonly cycleId: string;
  /** The buckets the held credits were taken from (given back, or kept by the capture, when the hold ends). */
  readonly heldFrom: readonly BucketMovement[];
  /** The credit type's figures (a hold changes none of them) and what is held and available after it. */
  readonly balanceAfter: BalanceFigures;
  readonly reservedAfter: number;
}

/** How a reservation ended without a capture (or the part of a capture's hold it did not use): the held credits go back. */
export interface HoldReturn {
  readonly reservationId: string;
  readonly userId: string;
  readonly creditType: string;
  /** Credits held. */
  readonly held: number;
  /** Given back to the buckets they were held from. */
  readonly returnedTo: readonly BucketMovement[];
  /** Of those, credits whose bucket lapsed while they were held: they expire now instead. */
  readonly lapsed: number;
  readonly cycleId: string;
  readonly balanceAfter: BalanceFigures;
  readonly reservedAfter: number;
}

/** A capture: the consumption (CreditConsumed with this reservationId) is in the same append, just before. */
export interface ReservationCapturedData extends HoldReturn {
  readonly consumptionId: string;
  readonly captured: number;
  /** held - captured: what went back. */
  readonly released: number;
}

/** The client's reason (null when none was given), or `cycle_reset`. */
export type ReleaseReason = string | null;

export interface ReservationReleasedData extends HoldReturn {
  /** Why it was released. */
  readonly reason: ReleaseReason;
}

export interface ReservationExpiredData extends HoldReturn {
  readonly expiresAt: string;
}

interface EventOf<T extends string, D> {
  readonly type: T;
  readonly data: D;
  /** Business time: when the movement happened (may be before it was recorded). */
  readonly occurredAt: string;
}

export type AccountOpened = EventOf<'AccountOpened', AccountOpenedData>;
export type CreditConsumed = EventOf<'CreditConsumed', CreditConsumedData>;
export type CreditRefunded = EventOf<'CreditRefunded', CreditRefundedData>;
export type CreditsGranted = EventOf<'CreditsGranted', CreditsGrantedData>;
export type CreditsExpired = EventOf<'CreditsExpired', CreditsExpiredData>;
export type CycleReset = EventOf<'CycleReset', CycleResetData>;
export type PlanChanged = EventOf<'PlanChanged', PlanChangedData>;
export type ScheduleChanged = EventOf<'ScheduleChanged', ScheduleChangedData>;
export type ThresholdsSet = EventOf<'ThresholdsSet', ThresholdsSetData>;
export type CreditThresholdCrossed = EventOf<'CreditThresholdCrossed', CreditThresholdCrossedData>;
export type MemberLimitsSet = EventOf<'MemberLimitsSet', MemberLimitsSetData>;
export type CreditsReserved = EventOf<'CreditsReserved', CreditsReservedData>;
export type ReservationCaptured = EventOf<'ReservationCaptured', ReservationCapturedData>;
export type ReservationReleased = EventOf<'ReservationReleased', ReservationReleasedData>;
export type ReservationExpired = EventOf<'ReservationExpired', ReservationExpiredData>;

export type LedgerEvent =
  | AccountOpened
  | CreditConsumed
  | CreditRefunded
  | CreditsGranted
  | CreditsExpired
  | CycleReset
  | PlanChanged
  | ScheduleChanged
  | ThresholdsSet
  | CreditThresholdCrossed
  | MemberLimitsSet
  | CreditsReserved
  | ReservationCaptured
  | ReservationReleased
  | ReservationExpired;
export type LedgerEventType = LedgerEvent['type'];

export const LEDGER_EVENT_TYPES: readonly LedgerEventType[] = [
  'AccountOpened',
  'CreditConsumed',
  'CreditRefunded',
  'CreditsGranted',
  'CreditsExpired',
  'CycleReset',
  'PlanChanged',
  'ScheduleChanged',
  'ThresholdsSet',
  'CreditThresholdCrossed',
  'MemberLimitsSet',
  'CreditsReserved',
  'ReservationCaptured',
  'ReservationReleased',
  'ReservationExpired',
];

export function isLedgerEventType(type: string): type is LedgerEventType {
  return (LEDGER_EVENT_TYPES as readonly string[]).includes(type);
}

/**
 * The current schema version of every event type; bump it with an upcaster when a payload changes.
 * v2 (billing cycles): figures gained `rolledIn`; grants `priority`; expiries `bucketId`; resets
 * `trigger`, `rolledOver`, `opening`, `planApplied`, `scheduleApplied`; plans and schedules
 * gained optional fields (AccountOpened). New types start at v1.
 * Rate cards: AccountOpened v3 (plans may carry `rates`, `clientPrices`), CreditConsumed v3
 * (`units`, `pricedBy`, `rate`; `creditsRequested` null when priced by the rate card), CycleReset
 * v3 (`planApplied` carries `rates`, `clientPrices`), PlanChanged v2 (`rates`, `clientPrices`).
 * Reservations: CreditConsumed v4 (`reservationId`), CycleReset v4 (closing `reservedAtReset`).
 */
export const CURRENT_SCHEMA_VERSION: Readonly<Record<LedgerEventType, number>> = {
  AccountOpened: 3,
  CreditConsumed: 4,
  CreditRefunded: 2,
  CreditsGranted: 2,
  CreditsExpired: 2,
  CycleReset: 4,
  PlanChanged: 2,
  ScheduleChanged: 1,
  ThresholdsSet: 1,
  CreditThresholdCrossed: 1,
  MemberLimitsSet: 1,
  CreditsReserved: 1,
  ReservationCaptured: 1,
  ReservationReleased: 1,
  ReservationExpired: 1,
};
