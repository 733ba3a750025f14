import { canonicalJson } from '../canonical';
import { ChangePlan, ChangeSchedule } from '../commands';
import { DomainErrorCode, refuse } from '../errors';
import { CreditThresholdCrossed, PlanAdjustment, PlanChanged } from '../events';
import { canonicalPricing, CreditTypePlan, creditTypesOf, normalizeRates, PlanPricing, ratesOf, clientPricesOf } from '../plan';
import { CycleSchedule, sameSchedule, scheduleProblem } from '../schedule';
import { cycleBucketId, OpenAccountState } from '../state';
import { advance } from './cycles';
import { accepted, Decision, DUPLICATE, requireValidRates } from './decision';
import { alertsFor } from './thresholds';

/** delta * numerator / denominator rounded `up` or `down`, exact on integers of any size (BigInt). */
export function prorate(delta: number, numerator: number, denominator: number, round: 'up' | 'down'): number {
  if (denominator <= 0) return 0;
  const product = BigInt(delta) * BigInt(numerator);
  const divisor = BigInt(denominator);
  const quotient = product / divisor;
  return Number(round === 'up' && product % divisor !== BigInt(0) ? quotient + BigInt(1) : quotient);
}

function planFingerprint(planId: string | null | undefined, creditTypes: Readonly<Record<string, CreditTypePlan>>, pricing: PlanPricing): string {
  return canonicalJson({ planId: planId ?? null, creditTypes, ...canonicalPricing(pricing) });
}

/** The part of the open cycle left at `at`, and the cycle's length. */
interface CycleShare {
  readonly remainingMs: number;
  readonly cycleMs: number;
}

function cycleShareAt(state: OpenAccountState, at: string): CycleShare {
  const start = Date.parse(state.cycleStartedAt);
  const end = Date.parse(state.cycleEndsAt);
  const cycleMs = Math.max(end - start, 0);
  return { cycleMs, remainingMs: Math.min(Math.max(end - Date.parse(at), 0), cycleMs) };
}

/** How a plan change now moves the allocation of one credit type for the rest of the cycle. */
function planAdjustment(state: OpenAccountState, creditType: string, newAllocation: number, share: CycleShare): PlanAdjustment {
  const previousAllocation = state.plan.creditTypes[creditType]?.allocation ?? 0;
  const delta = newAllocation - previousAllocation;
  const creditTypeState = state.creditTypes[creditType];
  let change = 0;
  let uncappedChange = 0;
  if (delta > 0) {
    // Upgrade: the extra allocation for the part of the cycle left, rounded up (in the customer's favour).
    change = uncappedChange = prorate(delta, share.remainingMs, share.cycleMs, 'up');
  } else if (delta < 0) {
    // Downgrade: the reduction for the part of the cycle left, rounded down, and never more than
    // the unused allocation of this cycle, so remaining never goes below 0 because of it.
    const reduction = prorate(-delta, share.remainingMs, share.cycleMs, 'down');
    const cycleBucket = creditTypeState?.buckets.find((bucket) => bucket.id === cycleBucketId(state.cycleId));
    const unused = Math.max(cycleBucket?.remaining ?? 0, 0);
    uncappedChange = -reduction;
    change = -Math.min(reduction, unused);
  }
  const before = creditTypeState?.figures ?? { allocated: 0, rolledIn: 0, granted: 0, used: 0, refunded: 0, expired: 0, remaining: 0 };
  const balanceAfter = { ...before, allocated: before.allocated + change, remaining: before.remaining + change };
  return { creditType, previousAllocation, newAllocation, change, remainingMs: share.remainingMs, cycleMs: share.cycleMs, uncappedChange, balanceAfter };
}

function planChanged(state: OpenAccountState, command: ChangePlan, effective: 'now' | 'next_cycle', adjustments: PlanAdjustment[]): PlanChanged {
  const data = command.data;
  const effectiveAt = effective === 'now' ? command.at : state.cycleEndsAt;
  return {
    type: 'PlanChanged',
    occurredAt: command.at,
    data: {
      planId: data.planId,
      previousPlanId: state.plan.planId ?? null,
      effective,
      effectiveAt,
      cycleId: state.cycleId,
      creditTypes: data.creditTypes,
      rates: normalizeRates(ratesOf(data)),
      clientPrices: clientPricesOf(data),
      adjustments,
    },
  };
}

export function changePlan(command: ChangePlan, state: OpenAccountState): Decision {
  const data = command.data;
  const { state: advanced, events: resets } = advance(state, command.at);
  const removed = Object.keys(advanced.plan.creditTypes).filter((creditType) => !data.creditTypes[creditType]);
  if (removed.length > 0) {
    refuse(DomainErrorCode.PlanRemovesCreditType, `a plan change keeps every credit type (set its allocation to 0 instead): missing ${removed.join(', ')}`, {
      creditTypes: removed,
    });
  }
  requireValidRates(ratesOf(data), data.creditTypes);
  const decreases = Object.entries(data.creditTypes).some(([creditType, plan]) => plan.allocation < (advanced.plan.creditTypes[creditType]?.allocation ?? 0));
  const effective = data.effective ?? (decreases ? 'next_cycle' : 'now');
  const target = planFingerprint(data.planId, data.creditTypes, data);
  const current = planFingerprint(advanced.plan.planId, advanced.plan.creditTypes, advanced.plan);
  if (effective === 'next_cycle') {
    const pending = advanced.pendingPlan;
    if (pending ? planFingerprint(pending.planId, pending.creditTypes, pending) === target : current === target) return DUPLICATE;
    return accepted([...resets, planChanged(advanced, command, effective, [])]);
  }
  if (!advanced.pendingPlan && current === target) return DUPLICATE;
  const share = cycleShareAt(advanced, command.at);
  const adjustments: PlanAdjustment[] = [];
  const alerts: CreditThresholdCrossed[] = [];
  for (const creditType of creditTypesOf({ creditTypes: data.creditTypes })) {
    const adjustment = planAdjustment(advanced, creditType, data.creditTypes[creditType].allocation, share);
    adjustments.push(adjustment);
    if (adjustment.change < 0 && advanced.creditTypes[creditType]) {
      alerts.push(...alertsFor(advanced, creditType, adjustment.balanceAfter, command.at));
    }
  }
  return accepted([...resets, planChanged(advanced, command, effective, adjustments), ...alerts]);
}

export function changeSchedule(command: ChangeSchedule, state: OpenAccountState): Decision {
  const schedule: CycleSchedule = command.data.schedule;
  const problem = scheduleProblem(schedule);
  if (problem) refuse(DomainErrorCode.InvalidSchedule, problem, { field: 'schedule' });
  const { state: advanced, events: resets } = advance(state, command.at);
  if (sameSchedule(schedule, advanced.pendingSchedule ?? advanced.plan.cycle)) return DUPLICATE;
  return accepted([
    ...resets,
    {
      type: 'ScheduleChanged',
      occurredAt: command.at,
      data: { schedule, previousSchedule: advanced.plan.cycle, effectiveAt: advanced.cycleEndsAt, cycleId: advanced.cycleId },
    },
  ]);
}
