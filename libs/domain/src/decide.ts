import { canonicalJson } from './canonical';
import {
  ChangePlan,
  ChangeSchedule,
  ConsumeCredits,
  GrantCredits,
  LedgerCommand,
  OpenAccount,
  RefundCredits,
  ResetCycle,
  ScheduledReset,
  SetThresholds,
} from './commands';
import { DomainErrorCode, refuse } from './errors';
import {
  BalanceFigures,
  BucketMovement,
  ClosingFigures,
  CreditConsumed,
  CreditsExpired,
  CreditThresholdCrossed,
  CycleReset,
  LedgerEvent,
  OpeningFigures,
  PlanAdjustment,
  RolledOverBucket,
} from './events';
import { CreditTypePlan, creditTypesOf, DEFAULT_ROLLOVER_EXPIRES_AFTER_CYCLES, DENY_OVERDRAFT, rolloverCap } from './plan';
import {
  CycleSchedule,
  cycleIdAt,
  cycleLabel,
  cycleStartAtOrBefore,
  nextCycleBoundaryAfter,
  nthBoundaryAfter,
  sameSchedule,
  scheduleProblem,
} from './schedule';
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
  rolloverBucketId,
  sameConsumptionRequest,
  speculative,
} from './state';
import { DEFAULT_THRESHOLDS, isCrossed, normalizeThresholds, percentUsed, Threshold, thresholdId } from './thresholds';

/**
 * What a command decides: new events to append, or `duplicate` when the command's id was
 * already used with the same payload (the caller answers with the first outcome, appends nothing).
 * Refusals are thrown as DomainError.
 */
export type Decision =
  | { readonly kind: 'accepted'; readonly events: readonly LedgerEvent[] }
  | { readonly kind: 'duplicate' };

const DUPLICATE: Decision = { kind: 'duplicate' };

/** Scheduled resets one command may catch up on before its own movement (the billing job has no limit: it loops). */
export const MAX_CATCH_UP_RESETS = 1_000;

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
    case 'ScheduledReset':
      return scheduledReset(command, requireAccount(state));
    case 'ChangePlan':
      return changePlan(command, requireAccount(state));
    case 'ChangeSchedule':
      return changeSchedule(command, requireAccount(state));
    case 'SetThresholds':
      return setThresholds(command, requireAccount(state));
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
  const problem = scheduleProblem(plan.cycle);
  if (problem) refuse(DomainErrorCode.InvalidSchedule, problem, { field: 'plan.cycle' });
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

/**
 * Grant and rollover buckets of a credit type whose expiry has passed at `at`: they lapse first,
 * each with a CreditsExpired event (`withEmpty`: also the ones with nothing left, to drop them).
 */
function expireBuckets(state: OpenAccountState, creditType: string, at: string, withEmpty = true): CreditsExpired[] {
  const ct = state.creditTypes[creditType];
  const events: CreditsExpired[] = [];
  let figures = ct.figures;
  for (const b of ct.buckets) {
    if (b.kind === 'cycle' || b.expiresAt === null || b.expiresAt > at) continue;
    const credits = Math.max(b.remaining, 0);
    if (credits === 0 && !withEmpty) continue;
    figures = { ...figures, expired: figures.expired + credits, remaining: figures.remaining - credits };
    events.push({
      type: 'CreditsExpired',
      occurredAt: b.expiresAt,
      data: {
        bucketId: b.id,
        grantId: b.kind === 'grant' ? b.id.slice('grant:'.length) : null,
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
  // Only expiries and resets, on a state that is either disposable or `speculative` (resets write the cycle index).
  let s: AccountState = state;
  for (const e of events) s = evolve(s, e);
  return s as OpenAccountState;
}

// ---------------------------------------------------------------------------------------------
// Cycles

export interface NextCycle {
  readonly cycleId: string;
  readonly startedAt: string;
  readonly endsAt: string;
}

function labelFree(label: string, taken: (id: string) => boolean): string {
  if (!taken(label)) return label;
  let n = 2;
  while (taken(`${label}.${n}`)) n++;
  return `${label}.${n}`;
}

/**
 * The cycle a scheduled reset of the open cycle opens: it starts at the open cycle's end, under
 * the schedule in force from then (a pending schedule change applies), with the id the schedule
 * derives (suffixed `.2`, `.3`… in the rare case a manual reset already used that id).
 */
export function nextScheduledCycle(state: OpenAccountState): NextCycle {
  const schedule = state.pendingSchedule ?? state.plan.cycle;
  const start = new Date(state.cycleEndsAt);
  return {
    cycleId: labelFree(cycleLabel(schedule, start), (id) => state.index.cycles.has(id)),
    startedAt: state.cycleEndsAt,
    endsAt: nextCycleBoundaryAfter(schedule, start).toISOString(),
  };
}

/** The scheduled resets due at `upTo`, in order, without deciding them (dry runs). */
export function dueScheduledCycles(state: OpenAccountState, upTo: string, max = MAX_CATCH_UP_RESETS): NextCycle[] {
  const out: NextCycle[] = [];
  const taken = new Set<string>();
  const schedule = state.pendingSchedule ?? state.plan.cycle;
  let endsAt = state.cycleEndsAt;
  while (endsAt <= upTo && out.length < max) {
    const start = new Date(endsAt);
    const cycleId = labelFree(cycleLabel(schedule, start), (id) => state.index.cycles.has(id) || taken.has(id));
    taken.add(cycleId);
    const next = { cycleId, startedAt: endsAt, endsAt: nextCycleBoundaryAfter(schedule, start).toISOString() };
    out.push(next);
    endsAt = next.endsAt;
  }
  return out;
}

interface CloseParams {
  readonly at: string;
  readonly cycleId: string;
  readonly endsAt: string;
  readonly trigger: 'schedule' | 'manual';
  readonly requested: Readonly<Record<string, number>> | null;
}

/** Closes the open cycle at `at` and opens `cycleId`: lapsed buckets expire (events), then CycleReset. */
function closeCycle(state: OpenAccountState, p: CloseParams): LedgerEvent[] {
  const at = p.at;
  const expiries: CreditsExpired[] = [];
  for (const creditType of Object.keys(state.creditTypes).sort()) expiries.push(...expireBuckets(state, creditType, at, false));
  const s = expiries.length ? applyAll({ ...state }, expiries) : state;

  const nextPlan = s.pendingPlan?.creditTypes ?? s.plan.creditTypes;
  const nextSchedule = s.pendingSchedule ?? s.plan.cycle;
  const allocations: Record<string, number> = {};
  for (const creditType of creditTypesOf({ creditTypes: nextPlan })) allocations[creditType] = nextPlan[creditType].allocation;
  for (const [creditType, allocation] of Object.entries(p.requested ?? {})) {
    if (!nextPlan[creditType]) requireCreditType(s, creditType);
    allocations[creditType] = allocation;
  }

  const closing: ClosingFigures[] = [];
  const carriedOverGrants: { grantId: string; creditType: string; credits: number }[] = [];
  const rolledOver: RolledOverBucket[] = [];
  const carriedByType = new Map<string, number>();
  const rolledByType = new Map<string, number>();
  for (const creditType of Object.keys(s.creditTypes).sort()) {
    const ct = s.creditTypes[creditType];
    let unused = 0;
    let overdrawn = 0;
    let carriedOver = 0;
    let rolledTotal = 0;
    for (const b of ct.buckets) {
      if (b.kind === 'cycle') {
        if (b.remaining >= 0) unused += b.remaining;
        else overdrawn += -b.remaining;
      } else if (b.remaining > 0 && (b.expiresAt === null || b.expiresAt > at)) {
        if (b.kind === 'grant') {
          carriedOver += b.remaining;
          carriedOverGrants.push({ grantId: b.id.slice('grant:'.length), creditType, credits: b.remaining });
        } else {
          rolledTotal += b.remaining;
          rolledOver.push({ bucketId: b.id, creditType, credits: b.remaining, expiresAt: b.expiresAt as string });
        }
      }
    }
    const policy = s.plan.creditTypes[creditType]?.rollover;
    const rolled = allocations[creditType] === undefined ? 0 : Math.min(unused, rolloverCap(policy, ct.figures.allocated));
    if (rolled > 0) {
      const cycles = policy?.expiresAfterCycles ?? DEFAULT_ROLLOVER_EXPIRES_AFTER_CYCLES;
      rolledOver.push({
        bucketId: rolloverBucketId(s.cycleId),
        creditType,
        credits: rolled,
        expiresAt: nthBoundaryAfter(nextSchedule, new Date(at), cycles).toISOString(),
      });
      rolledTotal += rolled;
    }
    carriedByType.set(creditType, carriedOver);
    rolledByType.set(creditType, rolledTotal);
    closing.push({ creditType, ...ct.figures, expiredAtReset: unused - rolled, carriedOver, rolledOver: rolledTotal, overdrawn });
  }
  const opening: OpeningFigures[] = Object.keys(allocations)
    .sort()
    .map((creditType) => {
      const allocated = allocations[creditType];
      const rolledIn = rolledByType.get(creditType) ?? 0;
      const granted = carriedByType.get(creditType) ?? 0;
      return { creditType, allocated, rolledIn, granted, used: 0, refunded: 0, expired: 0, remaining: allocated + rolledIn + granted };
    });
  const reset: CycleReset = {
    type: 'CycleReset',
    occurredAt: at,
    data: {
      cycleId: p.cycleId,
      previousCycleId: s.cycleId,
      startedAt: at,
      endsAt: p.endsAt,
      trigger: p.trigger,
      allocationsRequested: p.requested,
      allocations,
      closing,
      carriedOverGrants,
      rolledOver,
      opening,
      planApplied: s.pendingPlan,
      scheduleApplied: s.pendingSchedule,
    },
  };
  return [...expiries, reset];
}

/**
 * Brings the open cycle up to `at`: every boundary passed closes the cycle with a scheduled reset
 * (the same events the billing job would append), so a movement after a boundary is never
 * charged to the cycle that ended. Returns a speculative state when anything was due.
 */
function advance(state: OpenAccountState, at: string): { s: OpenAccountState; events: LedgerEvent[] } {
  if (state.cycleEndsAt > at) return { s: state, events: [] };
  let s = speculative(state);
  const events: LedgerEvent[] = [];
  for (let n = 0; s.cycleEndsAt <= at; n++) {
    if (n >= MAX_CATCH_UP_RESETS) {
      refuse(DomainErrorCode.CyclesBehind, `more than ${MAX_CATCH_UP_RESETS} cycles ended since the last reset: run the billing job (credit-ledger cycles run)`, {
        cycleId: state.cycleId,
        cycleEndsAt: state.cycleEndsAt,
      });
    }
    const next = nextScheduledCycle(s);
    const step = closeCycle(s, { at: next.startedAt, cycleId: next.cycleId, endsAt: next.endsAt, trigger: 'schedule', requested: null });
    events.push(...step);
    s = applyAll(s, step);
  }
  return { s, events };
}

function scheduledReset(command: ScheduledReset, state: OpenAccountState): Decision {
  const { cycleId } = command.data;
  if (state.cycleEndsAt > command.at) {
    if (state.index.cycles.has(cycleId)) return DUPLICATE;
    refuse(DomainErrorCode.CycleNotDue, `cycle ${state.cycleId} ends at ${state.cycleEndsAt}; nothing to reset yet`, {
      cycleId: state.cycleId,
      cycleEndsAt: state.cycleEndsAt,
    });
  }
  const next = nextScheduledCycle(state);
  if (next.cycleId !== cycleId) {
    if (state.index.cycles.has(cycleId)) return DUPLICATE;
    refuse(DomainErrorCode.CycleNotDue, `the next scheduled cycle is ${next.cycleId}, not ${cycleId}`, { expected: next.cycleId });
  }
  return { kind: 'accepted', events: closeCycle(state, { at: next.startedAt, cycleId, endsAt: next.endsAt, trigger: 'schedule', requested: null }) };
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
  const schedule = state.pendingSchedule ?? state.plan.cycle;
  const endsAt = nextCycleBoundaryAfter(schedule, new Date(command.at)).toISOString();
  return { kind: 'accepted', events: closeCycle(state, { at: command.at, cycleId, endsAt, trigger: 'manual', requested }) };
}

// ---------------------------------------------------------------------------------------------
// Thresholds

function thresholdsOf(state: OpenAccountState, creditType: string): readonly Threshold[] {
  return state.thresholds[creditType] ?? DEFAULT_THRESHOLDS;
}

/** Thresholds of `creditType` crossed at `figures` and not yet alerted in the current cycle. */
function alertsFor(
  state: OpenAccountState,
  creditType: string,
  figures: BalanceFigures,
  occurredAt: string,
  thresholds: readonly Threshold[] = thresholdsOf(state, creditType),
): CreditThresholdCrossed[] {
  const alerted = state.creditTypes[creditType]?.alerted ?? [];
  let out: CreditThresholdCrossed[] | undefined;
  for (const t of thresholds) {
    if (!isCrossed(t, figures)) continue;
    const id = thresholdId(t);
    if (alerted.includes(id)) continue;
    (out ??= []).push({
      type: 'CreditThresholdCrossed',
      occurredAt,
      data: { creditType, cycleId: state.cycleId, thresholdId: id, threshold: t, percentUsed: percentUsed(figures), balanceAfter: figures },
    });
  }
  return out ?? [];
}

// ---------------------------------------------------------------------------------------------
// Movements

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
  for (const b of ordered) {
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
  const { s: advanced, events: resets } = advance(state, command.at);
  requireCreditType(advanced, c.creditType);
  const expiries = expireBuckets(advanced, c.creditType, command.at);
  const s = expiries.length ? applyAll({ ...advanced }, expiries) : advanced;
  const ct = s.creditTypes[c.creditType];
  // Backdated consumptions (occurredAt in a closed cycle) are charged to the open cycle: closed cycles never change.
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
  const alerts = charged > 0 || expiries.length > 0 ? alertsFor(s, c.creditType, balanceAfter, occurredAt) : [];
  if (resets.length === 0 && expiries.length === 0 && alerts.length === 0) return { kind: 'accepted', events: [consumed] };
  return { kind: 'accepted', events: [...resets, ...expiries, consumed, ...alerts] };
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
  const { s: advanced, events: resets } = advance(state, command.at);
  const expiries = expireBuckets(advanced, consumption.creditType, command.at);
  const s = expiries.length ? applyAll({ ...advanced }, expiries) : advanced;
  const ct = s.creditTypes[consumption.creditType];
  // Give back to the buckets drawn from, newest draw first. A grant used up and closed at a reset
  // but not expired is reopened; a bucket that has lapsed since (expired grant or rollover, closed
  // cycle) is no longer live, and its share goes to the open cycle.
  const live = new Set(ct.buckets.map((b) => b.id));
  const currentCycle = cycleBucketId(s.cycleId);
  const returned = new Map<string, number>();
  let left = credits;
  const reopenable = (bucketId: string) => {
    if (!bucketId.startsWith('grant:')) return false;
    const g = s.index.grants.get(bucketId.slice('grant:'.length));
    return g !== undefined && (g.expiresAt === null || g.expiresAt > command.at);
  };
  for (let i = consumption.outstanding.length - 1; i >= 0 && left > 0; i--) {
    const m = consumption.outstanding[i];
    const give = Math.min(m.credits, left);
    const target = live.has(m.bucketId) || reopenable(m.bucketId) ? m.bucketId : currentCycle;
    returned.set(target, (returned.get(target) ?? 0) + give);
    left -= give;
  }
  const balanceAfter: BalanceFigures = {
    ...ct.figures,
    refunded: ct.figures.refunded + credits,
    remaining: ct.figures.remaining + credits,
  };
  const alerts = expiries.length > 0 ? alertsFor(s, consumption.creditType, balanceAfter, command.at) : [];
  return {
    kind: 'accepted',
    events: [
      ...resets,
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
      ...alerts,
    ],
  };
}

function grantCredits(command: GrantCredits, state: OpenAccountState): Decision {
  const g = command.data;
  const expiresAt = g.expiresAt === undefined ? null : iso(g.expiresAt);
  const priority = g.priority ?? 0;
  const earlier = state.index.grants.get(g.grantId);
  if (earlier) {
    if (earlier.fingerprint === grantFingerprint(g.creditType, g.credits, g.reason, expiresAt, priority)) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `grantId ${g.grantId} was already used with another payload`, {
      grantId: g.grantId,
    });
  }
  const { s, events: resets } = advance(state, command.at);
  const ct = requireCreditType(s, g.creditType);
  if (expiresAt !== null && expiresAt <= command.at) {
    refuse(DomainErrorCode.GrantAlreadyExpired, `expiresAt ${expiresAt} is not in the future`, { expiresAt });
  }
  return {
    kind: 'accepted',
    events: [
      ...resets,
      {
        type: 'CreditsGranted',
        occurredAt: command.at,
        data: {
          grantId: g.grantId,
          creditType: g.creditType,
          credits: g.credits,
          reason: g.reason,
          expiresAt,
          priority,
          cycleId: s.cycleId,
          balanceAfter: { ...ct.figures, granted: ct.figures.granted + g.credits, remaining: ct.figures.remaining + g.credits },
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Plan, schedule and threshold changes

/** delta * numerator / denominator rounded `up` or `down`, exact on integers of any size (BigInt). */
export function prorate(delta: number, numerator: number, denominator: number, round: 'up' | 'down'): number {
  if (denominator <= 0) return 0;
  const n = BigInt(delta) * BigInt(numerator);
  const d = BigInt(denominator);
  const q = n / d;
  return Number(round === 'up' && n % d !== BigInt(0) ? q + BigInt(1) : q);
}

function planFingerprint(planId: string | null | undefined, creditTypes: Readonly<Record<string, CreditTypePlan>>): string {
  return canonicalJson({ planId: planId ?? null, creditTypes });
}

function changePlan(command: ChangePlan, state: OpenAccountState): Decision {
  const d = command.data;
  const { s, events: resets } = advance(state, command.at);
  const removed = Object.keys(s.plan.creditTypes).filter((t) => !d.creditTypes[t]);
  if (removed.length > 0) {
    refuse(DomainErrorCode.PlanRemovesCreditType, `a plan change keeps every credit type (set its allocation to 0 instead): missing ${removed.join(', ')}`, {
      creditTypes: removed,
    });
  }
  const decreases = Object.entries(d.creditTypes).some(([t, p]) => p.allocation < (s.plan.creditTypes[t]?.allocation ?? 0));
  const effective = d.effective ?? (decreases ? 'next_cycle' : 'now');
  const target = planFingerprint(d.planId, d.creditTypes);
  const current = planFingerprint(s.plan.planId, s.plan.creditTypes);
  if (effective === 'next_cycle') {
    if (s.pendingPlan ? planFingerprint(s.pendingPlan.planId, s.pendingPlan.creditTypes) === target : current === target) return DUPLICATE;
    return {
      kind: 'accepted',
      events: [
        ...resets,
        {
          type: 'PlanChanged',
          occurredAt: command.at,
          data: { planId: d.planId, previousPlanId: s.plan.planId ?? null, effective, effectiveAt: s.cycleEndsAt, cycleId: s.cycleId, creditTypes: d.creditTypes, adjustments: [] },
        },
      ],
    };
  }
  if (!s.pendingPlan && current === target) return DUPLICATE;
  const start = Date.parse(s.cycleStartedAt);
  const end = Date.parse(s.cycleEndsAt);
  const cycleMs = Math.max(end - start, 0);
  const remainingMs = Math.min(Math.max(end - Date.parse(command.at), 0), cycleMs);
  const adjustments: PlanAdjustment[] = [];
  const alerts: CreditThresholdCrossed[] = [];
  for (const creditType of creditTypesOf({ creditTypes: d.creditTypes })) {
    const previousAllocation = s.plan.creditTypes[creditType]?.allocation ?? 0;
    const newAllocation = d.creditTypes[creditType].allocation;
    const delta = newAllocation - previousAllocation;
    const ct = s.creditTypes[creditType];
    let change = 0;
    let uncappedChange = 0;
    if (delta > 0) {
      // Upgrade: the extra allocation for the part of the cycle left, rounded up (in the customer's favour).
      change = uncappedChange = prorate(delta, remainingMs, cycleMs, 'up');
    } else if (delta < 0) {
      // Downgrade: the reduction for the part of the cycle left, rounded down, and never more than
      // the unused allocation of this cycle, so remaining never goes below 0 because of it.
      const reduction = prorate(-delta, remainingMs, cycleMs, 'down');
      const unused = Math.max(ct?.buckets.find((b) => b.id === cycleBucketId(s.cycleId))?.remaining ?? 0, 0);
      uncappedChange = -reduction;
      change = -Math.min(reduction, unused);
    }
    const before = ct?.figures ?? { allocated: 0, rolledIn: 0, granted: 0, used: 0, refunded: 0, expired: 0, remaining: 0 };
    const balanceAfter = { ...before, allocated: before.allocated + change, remaining: before.remaining + change };
    adjustments.push({ creditType, previousAllocation, newAllocation, change, remainingMs, cycleMs, uncappedChange, balanceAfter });
    if (change < 0 && ct) alerts.push(...alertsFor(s, creditType, balanceAfter, command.at));
  }
  return {
    kind: 'accepted',
    events: [
      ...resets,
      {
        type: 'PlanChanged',
        occurredAt: command.at,
        data: { planId: d.planId, previousPlanId: s.plan.planId ?? null, effective, effectiveAt: command.at, cycleId: s.cycleId, creditTypes: d.creditTypes, adjustments },
      },
      ...alerts,
    ],
  };
}

function changeSchedule(command: ChangeSchedule, state: OpenAccountState): Decision {
  const schedule: CycleSchedule = command.data.schedule;
  const problem = scheduleProblem(schedule);
  if (problem) refuse(DomainErrorCode.InvalidSchedule, problem, { field: 'schedule' });
  const { s, events: resets } = advance(state, command.at);
  if (sameSchedule(schedule, s.pendingSchedule ?? s.plan.cycle)) return DUPLICATE;
  return {
    kind: 'accepted',
    events: [
      ...resets,
      {
        type: 'ScheduleChanged',
        occurredAt: command.at,
        data: { schedule, previousSchedule: s.plan.cycle, effectiveAt: s.cycleEndsAt, cycleId: s.cycleId },
      },
    ],
  };
}

function setThresholds(command: SetThresholds, state: OpenAccountState): Decision {
  const { s, events: resets } = advance(state, command.at);
  const creditTypes: Record<string, Threshold[]> = {};
  for (const creditType of Object.keys(command.data.creditTypes).sort()) {
    requireCreditType(s, creditType);
    creditTypes[creditType] = normalizeThresholds(command.data.creditTypes[creditType]);
  }
  if (canonicalJson(creditTypes) === canonicalJson(s.thresholds)) return DUPLICATE;
  const alerts: CreditThresholdCrossed[] = [];
  for (const creditType of Object.keys(s.creditTypes).sort()) {
    alerts.push(...alertsFor(s, creditType, s.creditTypes[creditType].figures, command.at, creditTypes[creditType] ?? DEFAULT_THRESHOLDS));
  }
  return {
    kind: 'accepted',
    events: [...resets, { type: 'ThresholdsSet', occurredAt: command.at, data: { creditTypes, cycleId: s.cycleId } }, ...alerts],
  };
}
