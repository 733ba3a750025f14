import { CreditTypePlan, Plan, RateEntry } from './plan';
import { CycleSchedule } from './schedule';
import { Threshold } from './thresholds';

/** Every command carries `at`: the instant the ledger decides it (recorded time), supplied by the caller. */
interface CommandOf<T extends string, D> {
  readonly type: T;
  readonly data: D;
  readonly at: string;
}

export type OpenAccount = CommandOf<'OpenAccount', { readonly accountId: string; readonly name: string; readonly plan: Plan }>;

export interface ConsumeCreditsData {
  readonly consumptionId: string;
  readonly userId: string;
  /** Required with `credits`; without `credits` the rate card's credit type (when given, it must be the rate's). */
  readonly creditType?: string;
  readonly feature: string;
  readonly action: string;
  /** Client-priced: the credits to charge. Absent: priced by the plan's rate card (rate x units). */
  readonly credits?: number;
  /** Units of the action (default 1). */
  readonly units?: number;
  readonly description?: string;
  readonly dataRequested?: string;
  readonly dataKey?: string;
  /** Business time; defaults to `at`. */
  readonly occurredAt?: string;
}
export type ConsumeCredits = CommandOf<'ConsumeCredits', ConsumeCreditsData>;

export type RefundCredits = CommandOf<
  'RefundCredits',
  { readonly refundId: string; readonly consumptionId: string; readonly credits?: number; readonly reason: string }
>;

export type GrantCredits = CommandOf<
  'GrantCredits',
  {
    readonly grantId: string;
    readonly creditType: string;
    readonly credits: number;
    readonly reason: string;
    readonly expiresAt?: string;
    /** Burn-down priority, higher first; default 0 (the cycle allocation's). */
    readonly priority?: number;
  }
>;

/** Manual reset (POST /cycles): closes the open cycle at `at` and opens `cycleId`. */
export type ResetCycle = CommandOf<'ResetCycle', { readonly cycleId: string; readonly allocations?: Readonly<Record<string, number>> }>;

/**
 * Scheduled reset (billing job): closes the open cycle at its boundary and opens the next one,
 * whose id is derived from the schedule (`nextScheduledCycle`). The id is the idempotency key.
 */
export type ScheduledReset = CommandOf<'ScheduledReset', { readonly cycleId: string }>;

export type ChangePlan = CommandOf<
  'ChangePlan',
  {
    readonly planId: string;
    readonly creditTypes: Readonly<Record<string, CreditTypePlan>>;
    /** The new plan's rate card (absent: none). */
    readonly rates?: readonly RateEntry[];
    /** Whether consumptions may send their own credits (absent: true). */
    readonly clientPrices?: boolean;
    /** Absent: `now` when no allocation decreases, else `next_cycle`. */
    readonly effective?: 'now' | 'next_cycle';
  }
>;

export type ChangeSchedule = CommandOf<'ChangeSchedule', { readonly schedule: CycleSchedule }>;

export type SetThresholds = CommandOf<'SetThresholds', { readonly creditTypes: Readonly<Record<string, readonly Threshold[]>> }>;

/**
 * A member's budgets (`userId`), or the account's default for every member (`userId` null): per
 * credit type the credits per cycle, or null to remove that limit. Types not listed keep theirs.
 */
export type SetMemberLimits = CommandOf<'SetMemberLimits', { readonly userId: string | null; readonly creditTypes: Readonly<Record<string, number | null>> }>;

export interface ReserveCreditsData {
  readonly reservationId: string;
  readonly userId: string;
  /** As for a consumption: required with `credits`, else the rate card's credit type. */
  readonly creditType?: string;
  readonly feature: string;
  readonly action: string;
  /** Client-priced: the credits to hold. Absent: the rate card's rate x units. */
  readonly credits?: number;
  readonly units?: number;
  /** 1..MAX_RESERVATION_SECONDS; default DEFAULT_RESERVATION_SECONDS. */
  readonly expiresInSeconds?: number;
  readonly description?: string;
  readonly dataKey?: string;
}
export type ReserveCredits = CommandOf<'ReserveCredits', ReserveCreditsData>;

export interface CaptureReservationData {
  readonly reservationId: string;
  /** The consumption the capture records (its idempotency key). */
  readonly consumptionId: string;
  /** At most what is held; default all of it. 0 records a free consumption ("no data found"). */
  readonly credits?: number;
  readonly description?: string;
  readonly dataRequested?: string;
}
export type CaptureReservation = CommandOf<'CaptureReservation', CaptureReservationData>;

export type ReleaseReservation = CommandOf<'ReleaseReservation', { readonly reservationId: string; readonly reason?: string }>;

/** The sweeper: writes the expiries (and scheduled resets) due at `at`; nothing due is a duplicate. */
export type ExpireReservations = CommandOf<'ExpireReservations', Readonly<Record<string, never>>>;

export type LedgerCommand =
  | OpenAccount
  | ConsumeCredits
  | RefundCredits
  | GrantCredits
  | ResetCycle
  | ScheduledReset
  | ChangePlan
  | ChangeSchedule
  | SetThresholds
  | SetMemberLimits
  | ReserveCredits
  | CaptureReservation
  | ReleaseReservation
  | ExpireReservations;
