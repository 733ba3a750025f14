import { DomainError, DomainErrorCode } from '../errors';
import { BalanceFigures, BucketMovement, CreditsExpired } from '../events';
import { DENY_OVERDRAFT } from '../plan';
import { AccountState, cycleBucketId, OpenAccountState, purchaseKey, reservedOf } from '../state';
import { advance, applyAll, expireBuckets } from './cycles';
import { requireAccount } from './decision';
import { MemberBudget, memberBudget } from '../members';
import { planDraws } from './draws';
import { Price, priceOf, SpendRequest } from './pricing';

export type { SpendRequest } from './pricing';

/**
 * What spending a request would do on an account, step by step: its price under the plan in
 * force, the lapsed buckets that expire first, the purchase it repeats (charged 0), the draws,
 * and the member's budget. `refusal` is the first rule it breaks (null: it would be accepted).
 * Consumptions and checks both go through here: one decision, two answers.
 */
export interface SpendAssessment {
  /** The account after the expiries, on which the charge is decided. */
  readonly state: OpenAccountState;
  readonly expiries: readonly CreditsExpired[];
  readonly price: Price | null;
  readonly creditType: string | null;
  /** The credit type's figures before the charge (null for an unknown credit type). */
  readonly figures: BalanceFigures | null;
  /** Credits held by open reservations, and remaining - reserved: what the spend is decided on (null for an unknown credit type). */
  readonly reserved: number | null;
  readonly available: number | null;
  /** The consumption that already paid for the request's dataKey. */
  readonly paidBy: string | null;
  /** What would be charged (0 for a repeated purchase); null when no price could be set. */
  readonly charged: number | null;
  readonly drawnFrom: readonly BucketMovement[];
  readonly member: MemberBudget | null;
  readonly refusal: DomainError | null;
}

/** Assesses `request` on an account already brought up to `at` (see `advance`). Pure; refusals are returned. */
export function assessSpend(state: OpenAccountState, request: SpendRequest, at: string): SpendAssessment {
  const price = priceOf(state.plan, request);
  if (price instanceof DomainError) return unpriced(state, request.creditType ?? null, null, price);
  const creditType = price.creditType;
  if (!Object.hasOwn(state.creditTypes, creditType)) {
    const refusal = new DomainError(DomainErrorCode.UnknownCreditType, `credit type ${creditType} is not in the account's plan`, {
      creditType,
      creditTypes: Object.keys(state.plan.creditTypes).sort(),
    });
    return unpriced(state, creditType, price, refusal);
  }
  const expiries = expireBuckets(state, creditType, at);
  const current = applyAll(state, expiries);
  const creditTypeState = current.creditTypes[creditType];
  const figures = creditTypeState.figures;
  const paidBy = request.dataKey === undefined ? null : (current.index.purchases.get(purchaseKey(creditType, request.dataKey)) ?? null);
  const charged = paidBy === null ? price.credits : 0;
  const member = memberBudget(current, request.userId, creditType);
  // Open reservations hold credits: the buckets no longer have them, and the spend is decided on what is available.
  const reserved = reservedOf(current, creditType);
  const available = figures.remaining - reserved;
  const overdraft = current.plan.creditTypes[creditType].overdraft ?? DENY_OVERDRAFT;
  const draws = charged === 0 ? [] : planDraws(creditTypeState.buckets, available, charged, overdraft, cycleBucketId(current.cycleId));
  let refusal: DomainError | null = null;
  if (draws === null) {
    refusal = new DomainError(DomainErrorCode.InsufficientCredits, `not enough ${creditType} credits`, {
      creditType,
      requested: charged,
      remaining: figures.remaining,
      reserved,
      available,
    });
  } else if (charged > 0 && member.limit !== null && member.used + member.reserved + charged > member.limit) {
    refusal = new DomainError(
      DomainErrorCode.MemberLimitExceeded,
      `${request.userId} would spend more than their ${member.limit} ${creditType} credits this cycle`,
      { creditType, limit: member.limit, used: member.used, reserved: member.reserved, requested: charged },
    );
  }
  // One object, built once: every consumption and reservation is assessed here.
  const drawnFrom = refusal === null ? (draws as BucketMovement[]) : [];
  return { state: current, expiries, price, creditType, figures, reserved, available, paidBy, charged, drawnFrom, member, refusal };
}

/** The assessment of a request refused before any figure is read (no price, or an unknown credit type). */
function unpriced(state: OpenAccountState, creditType: string | null, price: Price | null, refusal: DomainError): SpendAssessment {
  return {
    state,
    expiries: [],
    price,
    creditType,
    figures: null,
    reserved: null,
    available: null,
    paidBy: null,
    charged: null,
    drawnFrom: [],
    member: null,
    refusal,
  };
}

/** Why a check answers `allowed: false`; any other refusal is the check's own error (409). */
export const CHECK_REASONS = [
  DomainErrorCode.InsufficientCredits,
  DomainErrorCode.MemberLimitExceeded,
  DomainErrorCode.NoRateForAction,
  DomainErrorCode.UnknownCreditType,
] as const;
export type CheckReason = (typeof CHECK_REASONS)[number];

/** The answer to "may this member do this, and what would it cost?" (nothing is decided or written). */
export interface SpendCheck {
  readonly allowed: boolean;
  readonly creditType: string | null;
  /** What the consumption would charge (0 for a repeated purchase); null when it cannot be priced. */
  readonly credits: number | null;
  /** The credit type's remaining balance now (null for an unknown credit type). */
  readonly remaining: number | null;
  /** Held by open reservations, and remaining - reserved: what the spend is decided on (null for an unknown credit type). */
  readonly reserved: number | null;
  readonly available: number | null;
  /** What the member may still spend of it this cycle; null: no limit. */
  readonly memberRemaining: number | null;
  readonly alreadyPurchased: boolean;
  readonly reason?: CheckReason;
}

function isCheckReason(code: string): code is CheckReason {
  return (CHECK_REASONS as readonly string[]).includes(code);
}

/**
 * Checks a spend at `at` with the same decision as a consumption (advance, then `assessSpend`):
 * allowed exactly when that consumption would be accepted on this state. Refusals outside
 * CHECK_REASONS (CLIENT_PRICE_NOT_ALLOWED, CHARGE_TOO_LARGE, CYCLES_BEHIND, ACCOUNT_NOT_FOUND) are thrown.
 */
export function checkSpend(state: AccountState, request: SpendRequest, at: string): SpendCheck {
  const { state: advanced } = advance(requireAccount(state), at);
  const assessed = assessSpend(advanced, request, at);
  const { refusal } = assessed;
  if (refusal && !isCheckReason(refusal.code)) throw refusal;
  return {
    allowed: refusal === null,
    creditType: assessed.creditType,
    credits: assessed.charged,
    remaining: assessed.figures?.remaining ?? null,
    reserved: assessed.reserved,
    available: assessed.available,
    memberRemaining: assessed.member?.remaining ?? null,
    alreadyPurchased: assessed.paidBy !== null,
    ...(refusal ? { reason: refusal.code as CheckReason } : {}),
  };
}
