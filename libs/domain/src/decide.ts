import { canonicalJson } from './canonical';
import { ConsumeCredits, GrantCredits, LedgerCommand, OpenAccount, RefundCredits, ResetCycle } from './commands';
import { DomainErrorCode, refuse } from './errors';
import {
  BalanceFigures,
  BucketMovement,
  ClosingFigures,
  CreditConsumed,
  CreditsExpired,
  CycleReset,
  LedgerEvent,
} from './events';
import { creditTypesOf, DENY_OVERDRAFT } from './plan';
import { cycleIdAt, cycleStartAtOrBefore, nextCycleBoundaryAfter } from './schedule';
import {
  AccountState,
  Bucket,
  bucketOrder,
  CreditTypeState,
  cycleBucketId,
  evolve,
  grantFingerprint,
  OpenAccountState,
  openAccountFingerprint,
  purchaseKey,
  refundFingerprint,
  sameConsumptionRequest,
} from './state';

/**
 * What a command decides: new events to append, or `duplicate` when the command's id was
 * already used with the same payload (the caller answers with the first outcome, appends nothing).
 * Refusals are thrown as DomainError.
 */
export type Decision =
  | { readonly kind: 'accepted'; readonly events: readonly LedgerEvent[] }
  | { readonly kind: 'duplicate' };

const DUPLICATE: Decision = { kind: 'duplicate' };

export function decide(command: LedgerCommand, state: AccountState): Decision {
  switch (command.type) {
    case 'OpenAccount':
      return openAccount(command, state);
    case 'ConsumeCredits':
      return consumeCredits(command, requireAccount(state));
    case 'RefundCredits':
      return refundCredits(command, requireAccount(state));
    case 'GrantCredits':
      return grantCredits(command, requireAccount(state));
    case 'ResetCycle':
      return resetCycle(command, requireAccount(state));
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

function requireAccount(state: AccountState): OpenAccountState {
  if (state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
  return state;
}

function iso(value: string): string {
  return new Date(value).toISOString();
}

function openAccount(command: OpenAccount, state: AccountState): Decision {
  const { accountId, name, plan } = command.data;
  if (state.status === 'open') {
    if (state.openFingerprint === openAccountFingerprint(name, plan)) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `account ${accountId} already exists with another name or plan`, {
      accountId,
    });
  }
  const at = new Date(command.at);
  const cycleStartedAt = cycleStartAtOrBefore(plan.cycle, at);
  return {
    kind: 'accepted',
    events: [
      {
        type: 'AccountOpened',
        occurredAt: command.at,
        data: {
          accountId,
          name,
          plan,
          cycleId: cycleIdAt(plan.cycle, at),
          cycleStartedAt: cycleStartedAt.toISOString(),
          cycleEndsAt: nextCycleBoundaryAfter(plan.cycle, at).toISOString(),
        },
      },
    ],
  };
}

function requireCreditType(state: OpenAccountState, creditType: string): CreditTypeState {
  const ct = state.creditTypes[creditType];
  if (!ct) {
    refuse(DomainErrorCode.UnknownCreditType, `credit type ${creditType} is not in the account's plan`, {
      creditType,
      creditTypes: creditTypesOf(state.plan),
    });
  }
  return ct;
}

/** Grants of a credit type whose expiry has passed at `at` and that still hold credits: they lapse first. */
function expireGrants(state: OpenAccountState, creditType: string, at: string): CreditsExpired[] {
  const ct = state.creditTypes[creditType];
  const events: CreditsExpired[] = [];
  let figures = ct.figures;
  for (const b of ct.buckets) {
    if (b.kind !== 'grant' || b.expiresAt === null || b.expiresAt > at) continue;
    const credits = Math.max(b.remaining, 0);
    figures = { ...figures, expired: figures.expired + credits, remaining: figures.remaining - credits };
    events.push({
      type: 'CreditsExpired',
      occurredAt: b.expiresAt,
      data: {
        grantId: b.id.slice('grant:'.length),
        creditType,
        credits,
        expiredAt: b.expiresAt,
        cycleId: state.cycleId,
        balanceAfter: figures,
      },
    });
  }
  return events;
}

function applyAll(state: OpenAccountState, events: readonly LedgerEvent[]): OpenAccountState {
  // Only used on small, fresh sub-states inside one decision (bucket lists), never on the indexes.
  let s: AccountState = state;
  for (const e of events) s = evolve(s, e);
  return s as OpenAccountState;
}

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
  for (const b of [...buckets].sort(bucketOrder)) {
    if (need === 0) break;
    if (b.remaining <= 0) continue;
    const take = Math.min(b.remaining, need);
    draws.set(b.id, take);
    need -= take;
  }
  if (need > 0) {
    if (overdraft.policy === 'deny') return null;
    if (overdraft.limit !== undefined && remaining - credits < -overdraft.limit) return null;
    draws.set(cycleBucket, (draws.get(cycleBucket) ?? 0) + need);
  }
  return [...draws.entries()].map(([bucketId, c]) => ({ bucketId, credits: c }));
}

function consumeCredits(command: ConsumeCredits, state: OpenAccountState): Decision {
  const c = command.data;
  const description = c.description ?? null;
  const dataRequested = c.dataRequested ?? null;
  const dataKey = c.dataKey ?? null;
  const earlier = state.index.consumptions.get(c.consumptionId);
  if (earlier) {
    const sameTime = c.occurredAt === undefined || iso(c.occurredAt) === earlier.occurredAt;
    const request = { userId: c.userId, creditType: c.creditType, feature: c.feature, action: c.action, creditsRequested: c.credits, description, dataRequested, dataKey };
    if (sameConsumptionRequest(earlier.request, request) && sameTime) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `consumptionId ${c.consumptionId} was already used with another payload`, {
      consumptionId: c.consumptionId,
    });
  }
  requireCreditType(state, c.creditType);
  const expiries = expireGrants(state, c.creditType, command.at);
  const s = expiries.length ? applyAll(state, expiries) : state;
  const ct = s.creditTypes[c.creditType];
  const occurredAt = c.occurredAt === undefined ? command.at : iso(c.occurredAt);

  const paidBy = dataKey === null ? undefined : s.index.purchases.get(purchaseKey(c.creditType, dataKey));
  let drawnFrom: BucketMovement[] = [];
  let charged = 0;
  if (paidBy === undefined) {
    const overdraft = s.plan.creditTypes[c.creditType].overdraft ?? DENY_OVERDRAFT;
    const draws = planDraws(ct.buckets, ct.figures.remaining, c.credits, overdraft, cycleBucketId(s.cycleId));
    if (draws === null) {
      refuse(DomainErrorCode.InsufficientCredits, `not enough ${c.creditType} credits`, {
        creditType: c.creditType,
        requested: c.credits,
        remaining: ct.figures.remaining,
      });
    }
    drawnFrom = draws;
    charged = c.credits;
  }
  const balanceAfter: BalanceFigures = {
    ...ct.figures,
    used: ct.figures.used + charged,
    remaining: ct.figures.remaining - charged,
  };
  const consumed: CreditConsumed = {
    type: 'CreditConsumed',
    occurredAt,
    data: {
      consumptionId: c.consumptionId,
      userId: c.userId,
      creditType: c.creditType,
      feature: c.feature,
      action: c.action,
      description,
      dataRequested,
      dataKey,
      creditsRequested: c.credits,
      creditsCharged: charged,
      alreadyPurchased: paidBy !== undefined,
      paidByConsumptionId: paidBy ?? null,
      cycleId: s.cycleId,
      drawnFrom,
      balanceAfter,
    },
  };
  return { kind: 'accepted', events: [...expiries, consumed] };
}

function refundCredits(command: RefundCredits, state: OpenAccountState): Decision {
  const r = command.data;
  const creditsRequested = r.credits ?? null;
  const earlier = state.index.refunds.get(r.refundId);
  if (earlier) {
    if (earlier.fingerprint === refundFingerprint(r.consumptionId, creditsRequested, r.reason)) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `refundId ${r.refundId} was already used with another payload`, {
      refundId: r.refundId,
    });
  }
  const consumption = state.index.consumptions.get(r.consumptionId);
  if (!consumption) {
    refuse(DomainErrorCode.ConsumptionNotFound, `consumption ${r.consumptionId} does not exist in this account`, {
      consumptionId: r.consumptionId,
    });
  }
  const refundable = consumption.creditsCharged - consumption.creditsRefunded;
  const credits = creditsRequested ?? refundable;
  if (credits > refundable || credits <= 0) {
    refuse(
      DomainErrorCode.RefundExceedsConsumption,
      refundable === 0
        ? `consumption ${r.consumptionId} has nothing left to refund`
        : `refund of ${credits} exceeds the ${refundable} credits left of consumption ${r.consumptionId}`,
      { consumptionId: r.consumptionId, requested: credits, refundable },
    );
  }
  const expiries = expireGrants(state, consumption.creditType, command.at);
  const s = expiries.length ? applyAll(state, expiries) : state;
  const ct = s.creditTypes[consumption.creditType];
  // Give back to the buckets drawn from, newest draw first; a bucket that lapsed since (expired
  // grant, closed cycle) is no longer live, and its share goes to the current cycle.
  const live = new Set(ct.buckets.map((b) => b.id));
  const currentCycle = cycleBucketId(s.cycleId);
  const returned = new Map<string, number>();
  let left = credits;
  for (let i = consumption.outstanding.length - 1; i >= 0 && left > 0; i--) {
    const m = consumption.outstanding[i];
    const give = Math.min(m.credits, left);
    const target = live.has(m.bucketId) ? m.bucketId : currentCycle;
    returned.set(target, (returned.get(target) ?? 0) + give);
    left -= give;
  }
  const balanceAfter: BalanceFigures = {
    ...ct.figures,
    refunded: ct.figures.refunded + credits,
    remaining: ct.figures.remaining + credits,
  };
  return {
    kind: 'accepted',
    events: [
      ...expiries,
      {
        type: 'CreditRefunded',
        occurredAt: command.at,
        data: {
          refundId: r.refundId,
          consumptionId: r.consumptionId,
          userId: consumption.userId,
          creditType: consumption.creditType,
          feature: consumption.feature,
          action: consumption.action,
          credits,
          creditsRequested,
          reason: r.reason,
          cycleId: s.cycleId,
          returnedTo: [...returned.entries()].map(([bucketId, c]) => ({ bucketId, credits: c })),
          consumptionFullyRefunded: credits === refundable,
          balanceAfter,
        },
      },
    ],
  };
}

function grantCredits(command: GrantCredits, state: OpenAccountState): Decision {
  const g = command.data;
  const expiresAt = g.expiresAt === undefined ? null : iso(g.expiresAt);
  const earlier = state.index.grants.get(g.grantId);
  if (earlier) {
    if (earlier.fingerprint === grantFingerprint(g.creditType, g.credits, g.reason, expiresAt)) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `grantId ${g.grantId} was already used with another payload`, {
      grantId: g.grantId,
    });
  }
  const ct = requireCreditType(state, g.creditType);
  if (expiresAt !== null && expiresAt <= command.at) {
    refuse(DomainErrorCode.GrantAlreadyExpired, `expiresAt ${expiresAt} is not in the future`, { expiresAt });
  }
  return {
    kind: 'accepted',
    events: [
      {
        type: 'CreditsGranted',
        occurredAt: command.at,
        data: {
          grantId: g.grantId,
          creditType: g.creditType,
          credits: g.credits,
          reason: g.reason,
          expiresAt,
          cycleId: state.cycleId,
          balanceAfter: { ...ct.figures, granted: ct.figures.granted + g.credits, remaining: ct.figures.remaining + g.credits },
        },
      },
    ],
  };
}

function resetCycle(command: ResetCycle, state: OpenAccountState): Decision {
  const { cycleId } = command.data;
  const requested = command.data.allocations ?? null;
  const earlier = state.index.cycles.get(cycleId);
  if (earlier) {
    // The first cycle (opened with the account) and any earlier reset: the same cycleId is a no-op.
    if (earlier.previousCycleId === null || earlier.fingerprint === canonicalJson(requested)) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `cycleId ${cycleId} was already used with other allocations`, { cycleId });
  }
  const allocations: Record<string, number> = {};
  for (const creditType of creditTypesOf(state.plan)) allocations[creditType] = state.plan.creditTypes[creditType].allocation;
  for (const [creditType, allocation] of Object.entries(requested ?? {})) {
    requireCreditType(state, creditType);
    allocations[creditType] = allocation;
  }
  const at = command.at;
  const closing: ClosingFigures[] = [];
  const carriedOverGrants: { grantId: string; creditType: string; credits: number }[] = [];
  for (const creditType of Object.keys(state.creditTypes).sort()) {
    const ct = state.creditTypes[creditType];
    let expiredAtReset = 0;
    let carriedOver = 0;
    let overdrawn = 0;
    for (const b of ct.buckets) {
      if (b.kind === 'cycle') {
        if (b.remaining >= 0) expiredAtReset += b.remaining;
        else overdrawn += -b.remaining;
      } else if (b.remaining > 0 && (b.expiresAt === null || b.expiresAt > at)) {
        carriedOver += b.remaining;
        carriedOverGrants.push({ grantId: b.id.slice('grant:'.length), creditType, credits: b.remaining });
      } else if (b.remaining > 0) {
        expiredAtReset += b.remaining;
      }
    }
    closing.push({ creditType, ...ct.figures, expiredAtReset, carriedOver, overdrawn });
  }
  const event: CycleReset = {
    type: 'CycleReset',
    occurredAt: at,
    data: {
      cycleId,
      previousCycleId: state.cycleId,
      startedAt: at,
      endsAt: nextCycleBoundaryAfter(state.plan.cycle, new Date(at)).toISOString(),
      allocationsRequested: requested,
      allocations,
      closing,
      carriedOverGrants,
    },
  };
  return { kind: 'accepted', events: [event] };
}
