import { ConsumeCredits, ConsumeCreditsData, GrantCredits, RefundCredits } from '../commands';
import { DomainErrorCode, refuse } from '../errors';
import { BalanceFigures, BucketMovement, CreditConsumed, CreditRefunded } from '../events';
import { ConsumptionRecord, ConsumptionRequest, cycleBucketId, grantFingerprint, OpenAccountState, refundFingerprint, sameConsumptionRequest } from '../state';
import { advance, applyAll, expireBuckets } from './cycles';
import { accepted, Decision, DUPLICATE, iso, requireCreditType } from './decision';
import { Price } from './pricing';
import { assessSpend, SpendAssessment } from './spending';
import { alertsFor } from './thresholds';

export { planDraws } from './draws';

/** An assessment without refusal: priced, on a known credit type. */
type AcceptedSpend = SpendAssessment & { readonly price: Price; readonly figures: BalanceFigures; readonly paidBy: string | null };

function consumptionRequest(data: ConsumeCreditsData): ConsumptionRequest {
  return {
    userId: data.userId,
    creditType: data.creditType ?? null,
    feature: data.feature,
    action: data.action,
    creditsRequested: data.credits ?? null,
    units: data.units ?? 1,
    description: data.description ?? null,
    dataRequested: data.dataRequested ?? null,
    dataKey: data.dataKey ?? null,
  };
}

/** A retry with the same id: the same payload is a duplicate, another payload is refused. */
function retriedConsumption(data: ConsumeCreditsData, earlier: ConsumptionRecord): Decision {
  const sameTime = data.occurredAt === undefined || iso(data.occurredAt) === earlier.occurredAt;
  if (sameConsumptionRequest(earlier.request, consumptionRequest(data)) && sameTime) return DUPLICATE;
  refuse(DomainErrorCode.IdempotencyKeyReused, `consumptionId ${data.consumptionId} was already used with another payload`, {
    consumptionId: data.consumptionId,
  });
}

/**
 * Charges a consumption: priced (the client's credits or the rate card's), drawn from the live
 * buckets, within the member's budget, in one decision with the balance (see `assessSpend`, which
 * a check runs too).
 */
export function consumeCredits(command: ConsumeCredits, state: OpenAccountState): Decision {
  const data = command.data;
  const earlier = state.index.consumptions.get(data.consumptionId);
  if (earlier) return retriedConsumption(data, earlier);
  const { state: advanced, events: resets } = advance(state, command.at);
  const assessed = assessSpend(advanced, data, command.at);
  if (assessed.refusal) throw assessed.refusal;
  const { state: current, expiries, price, figures, paidBy } = assessed as AcceptedSpend;
  const charged = assessed.charged as number;
  // Backdated consumptions (occurredAt in a closed cycle) are charged to the open cycle: closed cycles never change.
  const occurredAt = data.occurredAt === undefined ? command.at : iso(data.occurredAt);
  const request = consumptionRequest(data);
  const balanceAfter: BalanceFigures = { ...figures, used: figures.used + charged, remaining: figures.remaining - charged };
  const consumed: CreditConsumed = {
    type: 'CreditConsumed',
    occurredAt,
    data: {
      consumptionId: data.consumptionId,
      userId: data.userId,
      creditType: price.creditType,
      feature: data.feature,
      action: data.action,
      description: request.description,
      dataRequested: request.dataRequested,
      dataKey: request.dataKey,
      creditsRequested: request.creditsRequested,
      units: price.units,
      pricedBy: price.pricedBy,
      rate: price.rate,
      creditsCharged: charged,
      alreadyPurchased: paidBy !== null,
      paidByConsumptionId: paidBy,
      cycleId: current.cycleId,
      drawnFrom: assessed.drawnFrom,
      reservationId: null,
      balanceAfter,
    },
  };
  const alerts = charged > 0 || expiries.length > 0 ? alertsFor(current, price.creditType, balanceAfter, occurredAt) : [];
  if (resets.length === 0 && expiries.length === 0 && alerts.length === 0) return accepted([consumed]);
  return accepted([...resets, ...expiries, consumed, ...alerts]);
}

/** The consumption a refund is for and what is left of it to refund (refusals otherwise). */
function refundable(command: RefundCredits, state: OpenAccountState): { consumption: ConsumptionRecord; credits: number; left: number } {
  const data = command.data;
  const consumption = state.index.consumptions.get(data.consumptionId);
  if (!consumption) {
    refuse(DomainErrorCode.ConsumptionNotFound, `consumption ${data.consumptionId} does not exist in this account`, {
      consumptionId: data.consumptionId,
    });
  }
  const left = consumption.creditsCharged - consumption.creditsRefunded;
  const credits = data.credits ?? left;
  if (credits > left || credits <= 0) {
    refuse(
      DomainErrorCode.RefundExceedsConsumption,
      left === 0
        ? `consumption ${data.consumptionId} has nothing left to refund`
        : `refund of ${credits} exceeds the ${left} credits left of consumption ${data.consumptionId}`,
      { consumptionId: data.consumptionId, requested: credits, refundable: left },
    );
  }
  return { consumption, credits, left };
}

/**
 * Where a refund goes: back to the buckets drawn from, newest draw first. A grant used up and
 * closed at a reset but not expired is reopened; a bucket that has lapsed since (expired grant or
 * rollover, closed cycle) is no longer live, and its share goes to the open cycle.
 */
function returnTargets(state: OpenAccountState, consumption: ConsumptionRecord, credits: number, at: string): BucketMovement[] {
  const live = new Set(state.creditTypes[consumption.creditType].buckets.map((bucket) => bucket.id));
  const currentCycle = cycleBucketId(state.cycleId);
  const reopenable = (bucketId: string) => {
    if (!bucketId.startsWith('grant:')) return false;
    const grant = state.index.grants.get(bucketId.slice('grant:'.length));
    return grant !== undefined && (grant.expiresAt === null || grant.expiresAt > at);
  };
  const returned = new Map<string, number>();
  let left = credits;
  for (let draw = consumption.outstanding.length - 1; draw >= 0 && left > 0; draw--) {
    const movement = consumption.outstanding[draw];
    const give = Math.min(movement.credits, left);
    const target = live.has(movement.bucketId) || reopenable(movement.bucketId) ? movement.bucketId : currentCycle;
    returned.set(target, (returned.get(target) ?? 0) + give);
    left -= give;
  }
  return [...returned.entries()].map(([bucketId, given]) => ({ bucketId, credits: given }));
}

export function refundCredits(command: RefundCredits, state: OpenAccountState): Decision {
  const data = command.data;
  const creditsRequested = data.credits ?? null;
  const earlier = state.index.refunds.get(data.refundId);
  if (earlier) {
    if (earlier.fingerprint === refundFingerprint(data.consumptionId, creditsRequested, data.reason)) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `refundId ${data.refundId} was already used with another payload`, {
      refundId: data.refundId,
    });
  }
  const { consumption, credits, left } = refundable(command, state);
  const { state: advanced, events: resets } = advance(state, command.at);
  const expiries = expireBuckets(advanced, consumption.creditType, command.at);
  const current = applyAll(advanced, expiries);
  const figures = current.creditTypes[consumption.creditType].figures;
  const balanceAfter: BalanceFigures = { ...figures, refunded: figures.refunded + credits, remaining: figures.remaining + credits };
  const alerts = expiries.length > 0 ? alertsFor(current, consumption.creditType, balanceAfter, command.at) : [];
  const refunded: CreditRefunded = {
    type: 'CreditRefunded',
    occurredAt: command.at,
    data: {
      refundId: data.refundId,
      consumptionId: data.consumptionId,
      userId: consumption.userId,
      creditType: consumption.creditType,
      feature: consumption.feature,
      action: consumption.action,
      credits,
      creditsRequested,
      reason: data.reason,
      cycleId: current.cycleId,
      returnedTo: returnTargets(current, consumption, credits, command.at),
      consumptionFullyRefunded: credits === left,
      balanceAfter,
    },
  };
  return accepted([...resets, ...expiries, refunded, ...alerts]);
}

export function grantCredits(command: GrantCredits, state: OpenAccountState): Decision {
  const data = command.data;
  const expiresAt = data.expiresAt === undefined ? null : iso(data.expiresAt);
  const priority = data.priority ?? 0;
  const earlier = state.index.grants.get(data.grantId);
  if (earlier) {
    if (earlier.fingerprint === grantFingerprint(data.creditType, data.credits, data.reason, expiresAt, priority)) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `grantId ${data.grantId} was already used with another payload`, {
      grantId: data.grantId,
    });
  }
  const { state: advanced, events: resets } = advance(state, command.at);
  const figures = requireCreditType(advanced, data.creditType).figures;
  if (expiresAt !== null && expiresAt <= command.at) {
    refuse(DomainErrorCode.GrantAlreadyExpired, `expiresAt ${expiresAt} is not in the future`, { expiresAt });
  }
  return accepted([
    ...resets,
    {
      type: 'CreditsGranted',
      occurredAt: command.at,
      data: {
        grantId: data.grantId,
        creditType: data.creditType,
        credits: data.credits,
        reason: data.reason,
        expiresAt,
        priority,
        cycleId: advanced.cycleId,
        balanceAfter: { ...figures, granted: figures.granted + data.credits, remaining: figures.remaining + data.credits },
      },
    },
  ]);
}
