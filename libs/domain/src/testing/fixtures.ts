import {
  ChangePlan,
  ChangeSchedule,
  CaptureReservation,
  ConsumeCredits,
  ExpireReservations,
  GrantCredits,
  LedgerCommand,
  OpenAccount,
  RefundCredits,
  ReleaseReservation,
  ReserveCredits,
  ResetCycle,
  ScheduledReset,
  SetMemberLimits,
  SetThresholds,
} from '../commands';
import { LedgerEvent } from '../events';
import { CreditTypePlan, DENY_OVERDRAFT, OverdraftPolicy, Plan, RateEntry } from '../plan';
import { CycleSchedule } from '../schedule';
import { Threshold } from '../thresholds';
import { LedgerDecider, ledgerDecider } from '../decider';
import { AccountState } from '../state';

export const T0 = '2026-11-10T12:00:00.000Z';

/**
 * The one plan fixture: these allocations on a monthly UTC cycle, each credit type `deny` unless
 * `overdrafts` says otherwise. Also the body of `POST /v1/accounts` in the HTTP tests.
 */
export function planOf(allocations: Readonly<Record<string, number>>, overdrafts: Readonly<Record<string, OverdraftPolicy>> = {}): Plan {
  const creditTypes = Object.fromEntries(
    Object.entries(allocations).map(([type, allocation]) => [
      type,
      { allocation, overdraft: Object.hasOwn(overdrafts, type) ? overdrafts[type] : DENY_OVERDRAFT },
    ]),
  );
  return { creditTypes, cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' } };
}

/** email 100 (deny), mobile 10 (may go 5 below zero), export 50 (unlimited overdraft). */
export const PLAN: Plan = planOf({ email: 100, mobile: 10, export: 50 }, { mobile: { policy: 'allow', limit: 5 }, export: { policy: 'allow' } });

export const open = (at = T0, plan: Plan = PLAN): OpenAccount => ({
  type: 'OpenAccount',
  at,
  data: { accountId: 'acme', name: 'Acme', plan },
});

export const consume = (consumptionId: string, credits: number, extra: Partial<ConsumeCredits['data']> = {}, at = T0): ConsumeCredits => ({
  type: 'ConsumeCredits',
  at,
  data: { consumptionId, userId: 'ana', creditType: 'email', feature: 'email', action: 'reveal', credits, ...extra },
});

export const refund = (refundId: string, consumptionId: string, credits?: number, at = T0): RefundCredits => ({
  type: 'RefundCredits',
  at,
  data: { refundId, consumptionId, credits, reason: 'bounced' },
});

export const grant = (grantId: string, credits: number, extra: Partial<GrantCredits['data']> = {}, at = T0): GrantCredits => ({
  type: 'GrantCredits',
  at,
  data: { grantId, creditType: 'email', credits, reason: 'promo', ...extra },
});

export const reset = (cycleId: string, at: string, allocations?: Record<string, number>): ResetCycle => ({
  type: 'ResetCycle',
  at,
  data: { cycleId, allocations },
});

export const scheduled = (cycleId: string, at: string): ScheduledReset => ({ type: 'ScheduledReset', at, data: { cycleId } });

export const changePlan = (
  planId: string,
  creditTypes: Record<string, CreditTypePlan>,
  effective: 'now' | 'next_cycle' | undefined,
  at: string,
): ChangePlan => ({ type: 'ChangePlan', at, data: { planId, creditTypes, effective } });

export const changeSchedule = (schedule: CycleSchedule, at = T0): ChangeSchedule => ({ type: 'ChangeSchedule', at, data: { schedule } });

export const setThresholds = (creditTypes: Record<string, Threshold[]>, at = T0): SetThresholds => ({ type: 'SetThresholds', at, data: { creditTypes } });

/** The fixture plan with a rate card: email reveals 1, mobile reveals 2 (the people_search feature's default: 1 email), exports free. */
export const RATES: readonly RateEntry[] = [
  { feature: 'people_search', creditType: 'email', credits: 1 },
  { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 2 },
  { feature: 'exports', action: 'csv_export', creditType: 'export', credits: 0 },
];
export const PRICED_PLAN: Plan = { ...PLAN, rates: RATES };

/** A consumption priced by the rate card: no credits, `units` (default 1). */
export const consumeUnits = (
  consumptionId: string,
  action: string,
  extra: Partial<ConsumeCredits['data']> = {},
  at = T0,
  feature = action === 'csv_export' ? 'exports' : 'people_search',
): ConsumeCredits => ({ type: 'ConsumeCredits', at, data: { consumptionId, userId: 'ana', feature, action, ...extra } });

export const setMemberLimits = (userId: string | null, creditTypes: Record<string, number | null>, at = T0): SetMemberLimits => ({
  type: 'SetMemberLimits',
  at,
  data: { userId, creditTypes },
});

export const reserve = (reservationId: string, credits: number, extra: Partial<ReserveCredits['data']> = {}, at = T0): ReserveCredits => ({
  type: 'ReserveCredits',
  at,
  data: { reservationId, userId: 'ana', creditType: 'email', feature: 'enrichment', action: 'waterfall', credits, ...extra },
});

export const capture = (
  reservationId: string,
  consumptionId: string,
  credits?: number,
  at = T0,
  extra: Partial<CaptureReservation['data']> = {},
): CaptureReservation => ({
  type: 'CaptureReservation',
  at,
  data: { reservationId, consumptionId, credits, ...extra },
});

export const release = (reservationId: string, reason?: string, at = T0): ReleaseReservation => ({
  type: 'ReleaseReservation',
  at,
  data: { reservationId, reason },
});

export const sweep = (at: string): ExpireReservations => ({ type: 'ExpireReservations', at, data: {} });

/** Runs commands through the decider, collecting the events (refusals are skipped). */
export function run(commands: LedgerCommand[], decider: LedgerDecider = ledgerDecider): { state: AccountState; events: LedgerEvent[] } {
  let state = decider.initialState();
  const events: LedgerEvent[] = [];
  for (const command of commands) {
    try {
      const decision = decider.decide(command, state);
      if (decision.kind === 'accepted') {
        for (const event of decision.events) {
          events.push(event);
          state = decider.evolve(state, event);
        }
      }
    } catch {
      /* refused: nothing changes */
    }
  }
  return { state, events };
}
