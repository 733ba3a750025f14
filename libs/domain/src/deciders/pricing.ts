import { DomainError, DomainErrorCode } from '../errors';
import { AppliedRate, PricedBy } from '../events';
import { MAX_CREDITS_PER_MOVEMENT } from '../limits';
import { clientPricesOf, PlanPricing, RateEntry, ratesOf } from '../plan';

/** What a consumption (or a check) asks to spend: credits, or units priced by the rate card. */
export interface SpendRequest {
  readonly userId: string;
  readonly feature: string;
  readonly action: string;
  readonly creditType?: string;
  readonly credits?: number;
  readonly units?: number;
  readonly dataKey?: string;
}

/** The price of a request: its credit type, the credits before any already-purchased discount, how it was priced. */
export interface Price {
  readonly creditType: string;
  readonly credits: number;
  readonly units: number;
  readonly pricedBy: PricedBy;
  readonly rate: AppliedRate | null;
}

/** A rate of the card, with what a consumption priced by it records (one frozen value per entry, shared by its events). */
interface IndexedRate {
  readonly entry: RateEntry;
  readonly applied: AppliedRate;
}

/** Rate cards indexed by feature, then action ('' for a feature's default), built once per card. */
const indexes = new WeakMap<readonly RateEntry[], ReadonlyMap<string, ReadonlyMap<string, IndexedRate>>>();

function indexOf(rates: readonly RateEntry[]): ReadonlyMap<string, ReadonlyMap<string, IndexedRate>> {
  let index = indexes.get(rates);
  if (!index) {
    const built = new Map<string, Map<string, IndexedRate>>();
    for (const rate of rates) {
      let actions = built.get(rate.feature);
      if (!actions) built.set(rate.feature, (actions = new Map()));
      actions.set(rate.action ?? '', { entry: rate, applied: Object.freeze(appliedRate(rate)) });
    }
    indexes.set(rates, (index = built));
  }
  return index;
}

/** The indexed rate of `feature`/`action`: the action's own entry, else the feature's default. */
function indexedRateFor(pricing: PlanPricing, feature: string, action: string): IndexedRate | undefined {
  const rates = ratesOf(pricing);
  if (rates.length === 0) return undefined;
  const actions = indexOf(rates).get(feature);
  return actions?.get(action) ?? actions?.get('');
}

/** The rate of `feature`/`action` on the card: the action's own entry, else the feature's default. */
export function rateFor(pricing: PlanPricing, feature: string, action: string): RateEntry | undefined {
  return indexedRateFor(pricing, feature, action)?.entry;
}

function appliedRate(rate: RateEntry): AppliedRate {
  return { feature: rate.feature, action: rate.action ?? null, creditType: rate.creditType, credits: rate.credits };
}

/**
 * Prices a request under the plan in force: client-priced when it sends `credits` (refused when
 * the plan forbids it), else the rate of its action times its units. A refusal is returned, not
 * thrown, so that a check can answer with it.
 */
export function priceOf(pricing: PlanPricing, request: SpendRequest): Price | DomainError {
  const units = request.units ?? 1;
  if (request.credits !== undefined) {
    if (!clientPricesOf(pricing)) {
      return new DomainError(DomainErrorCode.ClientPriceNotAllowed, 'this plan prices every action from its rate card: send units, not credits', {
        feature: request.feature,
        action: request.action,
      });
    }
    if (request.creditType === undefined) {
      return new DomainError(DomainErrorCode.UnknownCreditType, 'a consumption that sends its credits names their creditType', { creditType: null });
    }
    return { creditType: request.creditType, credits: request.credits, units, pricedBy: 'client', rate: null };
  }
  const indexed = indexedRateFor(pricing, request.feature, request.action);
  if (!indexed || (request.creditType !== undefined && indexed.entry.creditType !== request.creditType)) {
    return new DomainError(
      DomainErrorCode.NoRateForAction,
      `the plan has no rate for ${request.feature}/${request.action}${request.creditType ? ` in ${request.creditType}` : ''}`,
      {
        feature: request.feature,
        action: request.action,
        creditType: request.creditType ?? null,
      },
    );
  }
  const rate = indexed.entry;
  const credits = rate.credits * units;
  if (credits > MAX_CREDITS_PER_MOVEMENT) {
    return new DomainError(DomainErrorCode.ChargeTooLarge, `${units} units at ${rate.credits} credits is more than ${MAX_CREDITS_PER_MOVEMENT} credits`, {
      units,
      rate: rate.credits,
      max: MAX_CREDITS_PER_MOVEMENT,
    });
  }
  return { creditType: rate.creditType, credits, units, pricedBy: 'rate_card', rate: indexed.applied };
}
