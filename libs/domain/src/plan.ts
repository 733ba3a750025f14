import { CycleSchedule } from './schedule';

export type OverdraftPolicyName = 'deny' | 'allow';

export interface OverdraftPolicy {
  readonly policy: OverdraftPolicyName;
  /** Only with `allow`: how far below zero `remaining` may go. Absent = no limit. */
  readonly limit?: number;
}

/**
 * Unused allocation carried into the next cycles instead of expiring at the reset. Exactly one
 * cap: `maxCredits` (a number of credits) or `maxPercent` (percent of the closing cycle's
 * allocation, rounded down). Rolled-over credits expire at the boundary `expiresAfterCycles`
 * cycles after the reset that rolled them (default 1: usable during the next cycle only).
 */
export interface RolloverPolicy {
  readonly maxCredits?: number;
  readonly maxPercent?: number;
  readonly expiresAfterCycles?: number;
}

export interface CreditTypePlan {
  readonly allocation: number;
  readonly overdraft: OverdraftPolicy;
  readonly rollover?: RolloverPolicy;
}

/** The plan of an account. The set of credit types is data, not an enum. */
export interface Plan {
  /** Name of the plan (set by plan changes); absent for plans given at opening. */
  readonly planId?: string;
  readonly creditTypes: Readonly<Record<string, CreditTypePlan>>;
  /** The schedule in force. */
  readonly cycle: CycleSchedule;
}

export const DENY_OVERDRAFT: OverdraftPolicy = { policy: 'deny' };
export const DEFAULT_ROLLOVER_EXPIRES_AFTER_CYCLES = 1;
export const MAX_ROLLOVER_EXPIRES_AFTER_CYCLES = 36;

/** Credit types in a stable order, for responses and closing figures. */
export function creditTypesOf(plan: { readonly creditTypes: Readonly<Record<string, unknown>> }): string[] {
  return Object.keys(plan.creditTypes).sort();
}

/** Credits of `unused` allocation that roll over under `policy` (integers; percent rounded down). */
export function rolloverCap(policy: RolloverPolicy | undefined, allocated: number): number {
  if (!policy) return 0;
  if (policy.maxCredits !== undefined) return policy.maxCredits;
  if (policy.maxPercent !== undefined) return Math.floor((Math.max(allocated, 0) * policy.maxPercent) / 100);
  return 0;
}
