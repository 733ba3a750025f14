import { emptyRecord } from '../limits';
import { canonicalJson } from '../canonical';
import { ResetCycle, ScheduledReset } from '../commands';
import { DomainErrorCode, refuse } from '../errors';
import { ClosingFigures, CreditsExpired, CycleReset, LedgerEvent, OpeningFigures, RolledOverBucket } from '../events';
import { fold } from '../evolve';
import { creditTypesOf, DEFAULT_ROLLOVER_EXPIRES_AFTER_CYCLES, rolloverCap } from '../plan';
import { CycleSchedule, cycleLabel, nextCycleBoundaryAfter, nthBoundaryAfter } from '../schedule';
import { OpenAccountState, rolloverBucketId } from '../state';
import { accepted, Decision, DUPLICATE, requireCreditType } from './decision';
import { CYCLE_RESET_REASON, expireHolds, holdsDue, releaseAllHolds } from './holds';

/** Scheduled resets one command may catch up on before its own movement (the billing job has no limit: it loops). */
export const MAX_CATCH_UP_RESETS = 1_000;

export interface NextCycle {
  readonly cycleId: string;
  readonly startedAt: string;
  readonly endsAt: string;
}

function labelFree(label: string, taken: (id: string) => boolean): string {
  if (!taken(label)) return label;
  let suffix = 2;
  while (taken(`${label}.${suffix}`)) suffix++;
  return `${label}.${suffix}`;
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
  const due: NextCycle[] = [];
  const taken = new Set<string>();
  const schedule = state.pendingSchedule ?? state.plan.cycle;
  let endsAt = state.cycleEndsAt;
  while (endsAt <= upTo && due.length < max) {
    const start = new Date(endsAt);
    const cycleId = labelFree(cycleLabel(schedule, start), (id) => state.index.cycles.has(id) || taken.has(id));
    taken.add(cycleId);
    const next = { cycleId, startedAt: endsAt, endsAt: nextCycleBoundaryAfter(schedule, start).toISOString() };
    due.push(next);
    endsAt = next.endsAt;
  }
  return due;
}

/**
 * Grant and rollover buckets of a credit type whose expiry has passed at `at`: they lapse first,
 * each with a CreditsExpired event (`withEmpty`: also the ones with nothing left, to drop them).
 */
export function expireBuckets(state: OpenAccountState, creditType: string, at: string, withEmpty = true): CreditsExpired[] {
  const creditTypeState = state.creditTypes[creditType];
  const events: CreditsExpired[] = [];
  let figures = creditTypeState.figures;
  for (const bucket of creditTypeState.buckets) {
    if (bucket.kind === 'cycle' || bucket.expiresAt === null || bucket.expiresAt > at) continue;
    const credits = Math.max(bucket.remaining, 0);
    if (credits === 0 && !withEmpty) continue;
    figures = { ...figures, expired: figures.expired + credits, remaining: figures.remaining - credits };
    events.push({
      type: 'CreditsExpired',
      occurredAt: bucket.expiresAt,
      data: {
        bucketId: bucket.id,
        grantId: bucket.kind === 'grant' ? bucket.id.slice('grant:'.length) : null,
        creditType,
        credits,
        expiredAt: bucket.expiresAt,
        cycleId: state.cycleId,
        balanceAfter: figures,
      },
    });
  }
  return events;
}

/** Evolves an open account with events that keep it open (expiries, resets). */
export function applyAll(state: OpenAccountState, events: readonly LedgerEvent[]): OpenAccountState {
  return events.length === 0 ? state : (fold(events, state) as OpenAccountState);
}

interface CloseParams {
  readonly at: string;
  readonly cycleId: string;
  readonly endsAt: string;
  readonly trigger: 'schedule' | 'manual';
  readonly requested: Readonly<Record<string, number>> | null;
}

/** What the closing of one credit type carries into the next cycle. */
interface CreditTypeClosing {
  readonly closing: ClosingFigures;
  readonly carriedOverGrants: { grantId: string; creditType: string; credits: number }[];
  readonly rolledOver: RolledOverBucket[];
}

/**
 * Closes the open cycle at `at` and opens `cycleId`: holds past their expiry expire, the other open
 * holds are released (`cycle_reset`: the credits go back before the close, so the closing counts
 * them once), lapsed buckets expire (events), then CycleReset.
 */
function closeCycle(state: OpenAccountState, params: CloseParams): LedgerEvent[] {
  const holdsExpired = expireHolds(state, params.at);
  const afterExpiry = applyAll(state, holdsExpired);
  const released = releaseAllHolds(afterExpiry, params.at, CYCLE_RESET_REASON);
  const unheld = applyAll(afterExpiry, released);
  const expiries: CreditsExpired[] = [];
  for (const creditType of Object.keys(unheld.creditTypes).sort()) expiries.push(...expireBuckets(unheld, creditType, params.at, false));
  const expired = applyAll(unheld, expiries);
  const reservedAtReset = new Map<string, number>();
  for (const { data } of released) reservedAtReset.set(data.creditType, (reservedAtReset.get(data.creditType) ?? 0) + data.held);
  const allocations = nextAllocations(expired, params.requested);
  const nextSchedule = expired.pendingSchedule ?? expired.plan.cycle;
  const closings = Object.keys(expired.creditTypes)
    .sort()
    .map((creditType) => closeCreditType(expired, creditType, params.at, allocations, nextSchedule, reservedAtReset.get(creditType) ?? 0));
  const reset: CycleReset = {
    type: 'CycleReset',
    occurredAt: params.at,
    data: {
      cycleId: params.cycleId,
      previousCycleId: expired.cycleId,
      startedAt: params.at,
      endsAt: params.endsAt,
      trigger: params.trigger,
      allocationsRequested: params.requested,
      allocations,
      closing: closings.map((closed) => closed.closing),
      carriedOverGrants: closings.flatMap((closed) => closed.carriedOverGrants),
      rolledOver: closings.flatMap((closed) => closed.rolledOver),
      opening: openingFigures(allocations, closings),
      planApplied: expired.pendingPlan,
      scheduleApplied: expired.pendingSchedule,
    },
  };
  return [...holdsExpired, ...released, ...expiries, reset];
}

/** The next cycle's allocations: the plan in force from then, overridden by the requested ones. */
function nextAllocations(state: OpenAccountState, requested: Readonly<Record<string, number>> | null): Record<string, number> {
  const nextPlan = state.pendingPlan?.creditTypes ?? state.plan.creditTypes;
  const allocations = emptyRecord<number>();
  for (const creditType of creditTypesOf({ creditTypes: nextPlan })) allocations[creditType] = nextPlan[creditType].allocation;
  for (const [creditType, allocation] of Object.entries(requested ?? {})) {
    if (!Object.hasOwn(nextPlan, creditType)) requireCreditType(state, creditType);
    allocations[creditType] = allocation;
  }
  return allocations;
}

function closeCreditType(
  state: OpenAccountState,
  creditType: string,
  at: string,
  allocations: Readonly<Record<string, number>>,
  nextSchedule: CycleSchedule,
  reservedAtReset: number,
): CreditTypeClosing {
  const creditTypeState = state.creditTypes[creditType];
  const carriedOverGrants: CreditTypeClosing['carriedOverGrants'] = [];
  const rolledOver: RolledOverBucket[] = [];
  let unused = 0;
  let overdrawn = 0;
  for (const bucket of creditTypeState.buckets) {
    if (bucket.kind === 'cycle') {
      if (bucket.remaining >= 0) unused += bucket.remaining;
      else overdrawn += -bucket.remaining;
    } else if (bucket.remaining > 0 && (bucket.expiresAt === null || bucket.expiresAt > at)) {
      if (bucket.kind === 'grant') carriedOverGrants.push({ grantId: bucket.id.slice('grant:'.length), creditType, credits: bucket.remaining });
      else rolledOver.push({ bucketId: bucket.id, creditType, credits: bucket.remaining, expiresAt: bucket.expiresAt as string });
    }
  }
  const policy = state.plan.creditTypes[creditType]?.rollover;
  const rolled = allocations[creditType] === undefined ? 0 : Math.min(unused, rolloverCap(policy, creditTypeState.figures.allocated));
  if (rolled > 0) {
    const cycles = policy?.expiresAfterCycles ?? DEFAULT_ROLLOVER_EXPIRES_AFTER_CYCLES;
    const expiresAt = nthBoundaryAfter(nextSchedule, new Date(at), cycles).toISOString();
    rolledOver.push({ bucketId: rolloverBucketId(state.cycleId), creditType, credits: rolled, expiresAt });
  }
  const carriedOver = sumCredits(carriedOverGrants);
  const rolledTotal = sumCredits(rolledOver);
  const closing = { creditType, ...creditTypeState.figures, expiredAtReset: unused - rolled, carriedOver, rolledOver: rolledTotal, overdrawn, reservedAtReset };
  return { closing, carriedOverGrants, rolledOver };
}

function sumCredits(items: readonly { credits: number }[]): number {
  return items.reduce((total, item) => total + item.credits, 0);
}

function openingFigures(allocations: Readonly<Record<string, number>>, closings: readonly CreditTypeClosing[]): OpeningFigures[] {
  const byType = new Map(closings.map((closed) => [closed.closing.creditType, closed.closing]));
  return Object.keys(allocations)
    .sort()
    .map((creditType) => {
      const allocated = allocations[creditType];
      const rolledIn = byType.get(creditType)?.rolledOver ?? 0;
      const granted = byType.get(creditType)?.carriedOver ?? 0;
      return { creditType, allocated, rolledIn, granted, used: 0, refunded: 0, expired: 0, remaining: allocated + rolledIn + granted };
    });
}

/**
 * Brings the open cycle up to `at`: every boundary passed closes the cycle with a scheduled reset
 * (the same events the billing job would append), so a movement after a boundary is never
 * charged to the cycle that ended, and every hold past its expiry expires, so that no decision
 * counts it. Returns the state after those events, and the events.
 */
export function advance(state: OpenAccountState, at: string): { state: OpenAccountState; events: LedgerEvent[] } {
  if (state.cycleEndsAt > at) {
    if (!holdsDue(state, at)) return { state, events: [] };
    const expired = expireHolds(state, at);
    return { state: applyAll(state, expired), events: expired };
  }
  let advanced = state;
  const events: LedgerEvent[] = [];
  for (let resets = 0; advanced.cycleEndsAt <= at; resets++) {
    if (resets >= MAX_CATCH_UP_RESETS) {
      refuse(
        DomainErrorCode.CyclesBehind,
        `more than ${MAX_CATCH_UP_RESETS} cycles ended since the last reset: run the billing job (credit-ledger cycles run)`,
        {
          cycleId: state.cycleId,
          cycleEndsAt: state.cycleEndsAt,
        },
      );
    }
    const next = nextScheduledCycle(advanced);
    const step = closeCycle(advanced, { at: next.startedAt, cycleId: next.cycleId, endsAt: next.endsAt, trigger: 'schedule', requested: null });
    events.push(...step);
    advanced = applyAll(advanced, step);
  }
  return { state: advanced, events }; // a reset leaves no hold open
}

export function scheduledReset(command: ScheduledReset, state: OpenAccountState): Decision {
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
  return accepted(closeCycle(state, { at: next.startedAt, cycleId, endsAt: next.endsAt, trigger: 'schedule', requested: null }));
}

export function resetCycle(command: ResetCycle, state: OpenAccountState): Decision {
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
  return accepted(closeCycle(state, { at: command.at, cycleId, endsAt, trigger: 'manual', requested }));
}

/** The account as it stands at `at` for reads: the scheduled resets and reservation expiries due are applied (nothing is decided), or the state as is when too far behind. */
export function stateAt(state: OpenAccountState, at: string): OpenAccountState {
  if (state.cycleEndsAt > at && !holdsDue(state, at)) return state;
  try {
    return advance(state, at).state;
  } catch {
    return state; // CYCLES_BEHIND: the billing job catches it up
  }
}
