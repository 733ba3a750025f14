import { canonicalJson } from './canonical';
import { AppliedPlan, AppliedRate, BalanceFigures, BucketMovement, ClosingFigures, PlanChangedData, PricedBy, ScheduleChangedData } from './events';
import { PersistentMap } from './persistent-map';
import { DailyNetCredits } from './depletion-forecast';
import { Plan } from './plan';
import { CycleSchedule } from './schedule';
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
  /** The cycle the consumption was charged to (a refund gives member room back only in that cycle). */
  readonly cycleId: string;
  readonly units: number;
  readonly pricedBy: PricedBy;
  readonly rate: AppliedRate | null;
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
 * The idempotency and purchase indexes of an account. They grow with every command, so they are
 * persistent maps (O(1) per write, no copy: a fold stays O(n)). Alerts are a plain array copied
 * on append: there are at most a few per credit type and cycle.
 */
export interface LedgerIndex {
  readonly consumptions: PersistentMap<string, ConsumptionRecord>;
  readonly refunds: PersistentMap<string, RefundRecord>;
  readonly grants: PersistentMap<string, GrantRecord>;
  readonly cycles: PersistentMap<string, CycleRecord>;
  /** `${creditType}\u0000${dataKey}` -> consumptionId that paid for it (while not fully refunded). */
  readonly purchases: PersistentMap<string, string>;
  /** Threshold crossings, oldest first. */
  readonly alerts: readonly AlertRecord[];
  /** Every member seen in usage or given a limit: their own limits and this cycle's use. */
  readonly members: PersistentMap<string, MemberRecord>;
  /** Every reservation of the account, open or ended (idempotency and reads). */
  readonly reservations: PersistentMap<string, ReservationRecord>;
}

export type ReservationStatus = 'open' | 'captured' | 'released' | 'expired';

/** What a client sent to reserve: a retry must send the same. */
export interface ReservationRequest {
  readonly userId: string;
  readonly creditType: string | null;
  readonly feature: string;
  readonly action: string;
  readonly creditsRequested: number | null;
  readonly units: number;
  readonly expiresInSeconds: number;
  readonly description: string | null;
  readonly dataKey: string | null;
}

/** What a client sent to capture: a retry with the same consumptionId must send the same. */
export interface CaptureRequest {
  readonly consumptionId: string;
  readonly creditsRequested: number | null;
  readonly description: string | null;
  readonly dataRequested: string | null;
}

export interface ReservationRecord {
  readonly reservationId: string;
  readonly request: ReservationRequest;
  readonly userId: string;
  readonly creditType: string;
  readonly feature: string;
  readonly action: string;
  readonly units: number;
  readonly pricedBy: PricedBy;
  readonly rate: AppliedRate | null;
  readonly credits: number;
  readonly alreadyPurchased: boolean;
  readonly reservedAt: string;
  readonly expiresAt: string;
  readonly cycleId: string;
  readonly status: ReservationStatus;
  /** When it was captured, released or expired (null while open). */
  readonly closedAt: string | null;
  readonly capture: CaptureRequest | null;
  readonly captured: number | null;
  /** Credits given back when it ended (null while open). */
  readonly released: number | null;
  /** The release reason (`cycle_reset` for a reset), null otherwise. */
  readonly reason: string | null;
  /** The figures right after the hold, and what was held of the credit type then. */
  readonly balanceAfter: BalanceFigures;
  readonly reservedAfter: number;
}

/** A reservation still holding credits. */
export interface OpenHold {
  readonly reservationId: string;
  readonly userId: string;
  readonly creditType: string;
  readonly credits: number;
  readonly expiresAt: string;
  readonly heldFrom: readonly BucketMovement[];
}

/**
 * The credits held by open reservations. `available = remaining - reserved[creditType]` is what
 * every spend is decided on. Bounded by MAX_OPEN_RESERVATIONS_PER_ACCOUNT, so a scan is cheap.
 */
export interface Holds {
  /** Oldest first. */
  readonly open: readonly OpenHold[];
  readonly reserved: Readonly<Record<string, number>>;
  /** The soonest expiry of an open hold (null: none open): decisions skip the scan before it. */
  readonly nextExpiry: string | null;
}

export const NO_HOLDS: Holds = { open: [], reserved: {}, nextExpiry: null };

/** Credits of `creditType` held by open reservations. */
export function reservedOf(state: OpenAccountState, creditType: string): number {
  return Object.hasOwn(state.holds.reserved, creditType) ? state.holds.reserved[creditType] : 0;
}

/** remaining - reserved: what a new spend of `creditType` may be decided on. */
export function availableOf(state: OpenAccountState, creditType: string): number {
  return (state.creditTypes[creditType]?.figures.remaining ?? 0) - reservedOf(state, creditType);
}

/** Credits of `creditType` held for `userId` (they count against the member's budget). */
export function memberReservedOf(state: OpenAccountState, userId: string, creditType: string): number {
  let held = 0;
  for (const hold of state.holds.open) if (hold.userId === userId && hold.creditType === creditType) held += hold.credits;
  return held;
}

export function sameReservationRequest(earlier: ReservationRequest, retry: ReservationRequest): boolean {
  return (
    earlier.userId === retry.userId &&
    (earlier.creditType === retry.creditType || (retry.creditType === null && earlier.creditsRequested === null)) &&
    earlier.feature === retry.feature &&
    earlier.action === retry.action &&
    earlier.creditsRequested === retry.creditsRequested &&
    earlier.units === retry.units &&
    earlier.expiresInSeconds === retry.expiresInSeconds &&
    earlier.description === retry.description &&
    earlier.dataKey === retry.dataKey
  );
}

/**
 * A team member's budget figures. `used` is the net credits charged (minus refunds) in cycle
 * `cycleId`: a member whose `cycleId` is not the open cycle has used nothing in it (limits renew
 * with the cycle without touching every member at the reset).
 */
export interface MemberRecord {
  readonly userId: string;
  readonly cycleId: string;
  readonly used: Readonly<Record<string, number>>;
  /** The member's own limits per credit type (credits per cycle); a type not listed uses the account default. */
  readonly limits: Readonly<Record<string, number>>;
}

/** A plan change that takes effect at the next reset. */
export type PendingPlan = AppliedPlan;

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
  /** Every member's limit per credit type unless they have their own. */
  readonly defaultMemberLimits: Readonly<Record<string, number>>;
  readonly lastPlanChange: PlanChangedData | null;
  readonly lastScheduleChange: ScheduleChangedData | null;
  /** Per credit type, the open cycle's recent net credits per UTC day: the depletion forecast's burn. */
  readonly dailyNet: Readonly<Record<string, readonly DailyNetCredits[]>>;
  /** Open reservations and what they hold. */
  readonly holds: Holds;
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
export function bucketOrder(first: Bucket, second: Bucket): number {
  if (first.priority !== second.priority) return second.priority - first.priority;
  if (first.expiresAt !== second.expiresAt) {
    if (first.expiresAt === null) return 1;
    if (second.expiresAt === null) return -1;
    return first.expiresAt < second.expiresAt ? -1 : 1;
  }
  if (first.createdAt !== second.createdAt) return first.createdAt < second.createdAt ? -1 : 1;
  return first.id < second.id ? -1 : first.id > second.id ? 1 : 0;
}

/** What a client sent for a consumption: a retry must send the same. */
export interface ConsumptionRequest {
  readonly userId: string;
  /** Null: not sent (priced by the rate card, whose credit type was used). */
  readonly creditType: string | null;
  readonly feature: string;
  readonly action: string;
  /** Null: priced by the rate card. */
  readonly creditsRequested: number | null;
  readonly units: number;
  readonly description: string | null;
  readonly dataRequested: string | null;
  readonly dataKey: string | null;
}

/**
 * Field by field (no string building: this runs for every consumption on the hot path). A retry
 * of a rate-card consumption may leave out the credit type the first one named (it is the rate's).
 */
export function sameConsumptionRequest(earlier: ConsumptionRequest, retry: ConsumptionRequest): boolean {
  return (
    earlier.userId === retry.userId &&
    (earlier.creditType === retry.creditType || (retry.creditType === null && earlier.creditsRequested === null)) &&
    earlier.feature === retry.feature &&
    earlier.action === retry.action &&
    earlier.creditsRequested === retry.creditsRequested &&
    earlier.units === retry.units &&
    earlier.description === retry.description &&
    earlier.dataRequested === retry.dataRequested &&
    earlier.dataKey === retry.dataKey
  );
}

export function refundFingerprint(consumptionId: string, creditsRequested: number | null, reason: string): string {
  return JSON.stringify([consumptionId, creditsRequested, reason]);
}

export function grantFingerprint(creditType: string, credits: number, reason: string, expiresAt: string | null, priority: number): string {
  return JSON.stringify([creditType, credits, reason, expiresAt, priority]);
}
