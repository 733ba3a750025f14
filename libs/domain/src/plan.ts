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

/**
 * One line of a plan's rate card: the credits one unit of `feature`/`action` costs, in
 * `creditType`. Without `action` it is the feature's default; the most specific entry wins.
 * 0 is a price: a free action is still recorded.
 */
export interface RateEntry {
  readonly feature: string;
  readonly action?: string;
  readonly creditType: string;
  readonly credits: number;
}

/** The plan's pricing: its rate card and whether a consumption may still send its own `credits`. */
export interface PlanPricing {
  /** Absent: no rate card (every consumption sends its credits). */
  readonly rates?: readonly RateEntry[];
  /** Absent: true. */
  readonly clientPrices?: boolean;
}

/** The plan of an account. The set of credit types is data, not an enum. */
export interface Plan extends PlanPricing {
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

export function ratesOf(pricing: PlanPricing): readonly RateEntry[] {
  return pricing.rates ?? [];
}

export function clientPricesOf(pricing: PlanPricing): boolean {
  return pricing.clientPrices ?? true;
}

function rateOrder(first: RateEntry, second: RateEntry): number {
  const left = [first.feature, first.action ?? '', first.creditType];
  const right = [second.feature, second.action ?? '', second.creditType];
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return left[index] < right[index] ? -1 : 1;
  return 0;
}

/** Rates in a stable order with only the fields given, so that equal rate cards compare equal. */
export function normalizeRates(rates: readonly RateEntry[]): RateEntry[] {
  return rates
    .map((rate) => ({
      feature: rate.feature,
      ...(rate.action === undefined ? {} : { action: rate.action }),
      creditType: rate.creditType,
      credits: rate.credits,
    }))
    .sort(rateOrder);
}

/** The pricing fields of a plan in their canonical form: `rates` only when not empty, `clientPrices` only when false. */
export function canonicalPricing(pricing: PlanPricing): PlanPricing {
  const rates = ratesOf(pricing);
  return { ...(rates.length > 0 ? { rates: normalizeRates(rates) } : {}), ...(clientPricesOf(pricing) ? {} : { clientPrices: false }) };
}

/** What is wrong with a rate card for these credit types (null when nothing): an unknown credit type or two entries for one action. */
export function ratesProblem(rates: readonly RateEntry[], creditTypes: Readonly<Record<string, unknown>>): { index: number; reason: string } | null {
  const seen = new Set<string>();
  for (let index = 0; index < rates.length; index++) {
    const rate = rates[index];
    if (!Object.hasOwn(creditTypes, rate.creditType)) return { index, reason: `credit type ${rate.creditType} is not in the plan` };
    const key = `${rate.feature}\u0000${rate.action ?? ''}`;
    if (seen.has(key)) return { index, reason: `${rate.feature}/${rate.action ?? '(default)'} has two rates` };
    seen.add(key);
  }
  return null;
}
