import { ConsumeCredits, ConsumeCreditsData, GrantCredits, RefundCredits } from '../commands';
import { DomainErrorCode, refuse } from '../errors';
import { BalanceFigures, BucketMovement, CreditConsumed, CreditRefunded } from '../events';
import { DENY_OVERDRAFT } from '../plan';
import {
  Bucket,
  bucketOrder,
  ConsumptionRecord,
  ConsumptionRequest,
  cycleBucketId,
  grantFingerprint,
  OpenAccountState,
  purchaseKey,
  refundFingerprint,
  sameConsumptionRequest,
} from '../state';
import { advance, applyAll, expireBuckets } from './cycles';
import { accepted, Decision, DUPLICATE, iso, requireCreditType } from './decision';
import { alertsFor } from './thresholds';

/** Plans the draws of `credits` from the live buckets; null when the overdraft policy refuses. */
export function planDraws(
  buckets: readonly Bucket[],
  remaining: number,
  credits: number,
  overdraft: { policy: 'deny' | 'allow'; limit?: number },
  cycleBucket: string,
): BucketMovement[] | null {
  const draws = new Map<string, number>();
  let need = credits;
  const ordered = buckets.length === 1 ? buckets : [...buckets].sort(bucketOrder);
  for (const bucket of ordered) {
    if (need === 0) break;
    if (bucket.remaining <= 0) continue;
    const take = Math.min(bucket.remaining, need);
    draws.set(bucket.id, take);
    need -= take;
  }
  if (need > 0) {
    if (overdraft.policy === 'deny') return null;
    if (overdraft.limit !== undefined && remaining - credits < -overdraft.limit) return null;
    draws.set(cycleBucket, (draws.get(cycleBucket) ?? 0) + need);
  }
  return [...draws.entries()].map(([bucketId, drawn]) => ({ bucketId, credits: drawn }));
}

function consumptionRequest(data: ConsumeCreditsData): ConsumptionRequest {
  return {
    userId: data.userId,
    creditType: data.creditType,
    feature: data.feature,
    action: data.action,
    creditsRequested: data.credits,
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

/** The draws of a consumption, or none when its data was already paid for in this account. */
function chargeOf(state: OpenAccountState, data: ConsumeCreditsData, paidBy: string | undefined): { drawnFrom: BucketMovement[]; charged: number } {
  if (paidBy !== undefined) return { drawnFrom: [], charged: 0 };
  const creditTypeState = state.creditTypes[data.creditType];
  const overdraft = state.plan.creditTypes[data.creditType].overdraft ?? DENY_OVERDRAFT;
  const draws = planDraws(creditTypeState.buckets, creditTypeState.figures.remaining, data.credits, overdraft, cycleBucketId(state.cycleId));
  if (draws === null) {
    refuse(DomainErrorCode.InsufficientCredits, `not enough ${data.creditType} credits`, {
      creditType: data.creditType,
      requested: data.credits,
      remaining: creditTypeState.figures.remaining,
    });
  }
  return { drawnFrom: draws, charged: data.credits };
}

export function consumeCredits(command: ConsumeCredits, state: OpenAccountState): Decision {
  const data = command.data;
  const earlier = state.index.consumptions.get(data.consumptionId);
  if (earlier) return retriedConsumption(data, earlier);
  const { state: advanced, events: resets } = advance(state, command.at);
  requireCreditType(advanced, data.creditType);
  const expiries = expireBuckets(advanced, data.creditType, command.at);
  const current = applyAll(advanced, expiries);
  const figures = current.creditTypes[data.creditType].figures;
  // Backdated consumptions (occurredAt in a closed cycle) are charged to the open cycle: closed cycles never change.
  const occurredAt = data.occurredAt === undefined ? command.at : iso(data.occurredAt);
  const request = consumptionRequest(data);
  const paidBy = request.dataKey === null ? undefined : current.index.purchases.get(purchaseKey(data.creditType, request.dataKey));
  const { drawnFrom, charged } = chargeOf(current, data, paidBy);
  const balanceAfter: BalanceFigures = { ...figures, used: figures.used + charged, remaining: figures.remaining - charged };
  const consumed: CreditConsumed = {
    type: 'CreditConsumed',
    occurredAt,
    data: {
      consumptionId: data.consumptionId,
      userId: data.userId,
      creditType: data.creditType,
      feature: data.feature,
      action: data.action,
      description: request.description,
      dataRequested: request.dataRequested,
      dataKey: request.dataKey,
      creditsRequested: data.credits,
      creditsCharged: charged,
      alreadyPurchased: paidBy !== undefined,
      paidByConsumptionId: paidBy ?? null,
      cycleId: current.cycleId,
      drawnFrom,
      balanceAfter,
    },
  };
  const alerts = charged > 0 || expiries.length > 0 ? alertsFor(current, data.creditType, balanceAfter, occurredAt) : [];
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
