import { Plan } from './plan';

/** Figures of one credit type in the current cycle. remaining = allocated + granted - used + refunded - expired. */
export interface BalanceFigures {
  readonly allocated: number;
  readonly granted: number;
  readonly used: number;
  readonly refunded: number;
  readonly expired: number;
  readonly remaining: number;
}

/** Credits taken from (or given back to) one bucket: `cycle:<cycleId>` or `grant:<grantId>`. */
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
  /** The price the client asked to charge. */
  readonly creditsRequested: number;
  /** What was charged: creditsRequested, or 0 when the dataKey was already paid for. */
  readonly creditsCharged: number;
  readonly alreadyPurchased: boolean;
  /** With alreadyPurchased: the consumption that paid for this dataKey. */
  readonly paidByConsumptionId: string | null;
  readonly cycleId: string;
  readonly drawnFrom: readonly BucketMovement[];
  readonly balanceAfter: BalanceFigures;
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
  readonly cycleId: string;
  readonly balanceAfter: BalanceFigures;
}

export interface CreditsExpiredData {
  readonly grantId: string;
  readonly creditType: string;
  readonly credits: number;
  readonly expiredAt: string;
  readonly cycleId: string;
  readonly balanceAfter: BalanceFigures;
}

/** Closing figures of one credit type for the cycle that ends. remaining = expiredAtReset + carriedOver - overdrawn. */
export interface ClosingFigures extends BalanceFigures {
  readonly creditType: string;
  /** Unused allocation and expired grant remainders that lapse at the reset. */
  readonly expiredAtReset: number;
  /** Unexpired grant remainders carried into the next cycle. */
  readonly carriedOver: number;
  /** How far below zero the cycle ended (overdraft `allow`); the next cycle starts from its allocation. */
  readonly overdrawn: number;
}

export interface CycleResetData {
  readonly cycleId: string;
  readonly previousCycleId: string;
  readonly startedAt: string;
  readonly endsAt: string;
  /** Allocations the client asked for; null = the plan's. */
  readonly allocationsRequested: Readonly<Record<string, number>> | null;
  readonly allocations: Readonly<Record<string, number>>;
  readonly closing: readonly ClosingFigures[];
  readonly carriedOverGrants: readonly { readonly grantId: string; readonly creditType: string; readonly credits: number }[];
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

export type LedgerEvent = AccountOpened | CreditConsumed | CreditRefunded | CreditsGranted | CreditsExpired | CycleReset;
export type LedgerEventType = LedgerEvent['type'];

export const LEDGER_EVENT_TYPES: readonly LedgerEventType[] = [
  'AccountOpened',
  'CreditConsumed',
  'CreditRefunded',
  'CreditsGranted',
  'CreditsExpired',
  'CycleReset',
];

export function isLedgerEventType(type: string): type is LedgerEventType {
  return (LEDGER_EVENT_TYPES as readonly string[]).includes(type);
}

/** The current schema version of every event type; bump it with an upcaster when a payload changes. */
export const CURRENT_SCHEMA_VERSION: Readonly<Record<LedgerEventType, number>> = {
  AccountOpened: 1,
  CreditConsumed: 1,
  CreditRefunded: 1,
  CreditsGranted: 1,
  CreditsExpired: 1,
  CycleReset: 1,
};
