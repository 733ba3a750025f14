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
} from '../commands';
import { LedgerEvent } from '../events';
import { CreditTypePlan, Plan } from '../plan';
import { CycleSchedule } from '../schedule';
import { Threshold } from '../thresholds';
import { LedgerDecider, ledgerDecider } from '../decider';
import { AccountState } from '../state';

export const T0 = '2026-11-10T12:00:00.000Z';

export const PLAN: Plan = {
  creditTypes: {
    email: { allocation: 100, overdraft: { policy: 'deny' } },
    mobile: { allocation: 10, overdraft: { policy: 'allow', limit: 5 } },
    export: { allocation: 50, overdraft: { policy: 'allow' } },
  },
  cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' },
};

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
