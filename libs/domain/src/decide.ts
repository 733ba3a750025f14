import { LedgerCommand } from './commands';
import { openAccount } from './deciders/accounts';
import { resetCycle, scheduledReset } from './deciders/cycles';
import { Decision, requireAccount } from './deciders/decision';
import { setMemberLimits } from './deciders/member-budgets';
import { consumeCredits, grantCredits, refundCredits } from './deciders/movements';
import { changePlan, changeSchedule } from './deciders/plan-changes';
import { captureReservation, expireReservations, releaseReservation, reserveCredits } from './deciders/reservations';
import { setThresholds } from './deciders/thresholds';
import { AccountState } from './state';

export { MAX_CATCH_UP_RESETS, dueScheduledCycles, nextScheduledCycle, stateAt } from './deciders/cycles';
export type { NextCycle } from './deciders/cycles';
export type { Decision } from './deciders/decision';
export { planDraws } from './deciders/draws';
export { priceOf, rateFor } from './deciders/pricing';
export type { Price, SpendRequest } from './deciders/pricing';
export { assessSpend, CHECK_REASONS, checkSpend } from './deciders/spending';
export type { CheckReason, SpendAssessment, SpendCheck } from './deciders/spending';
export { prorate } from './deciders/plan-changes';
export { CYCLE_RESET_REASON } from './deciders/holds';

/** What `command` decides on `state`: one decider per area, each in deciders/. */
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
    case 'SetMemberLimits':
      return setMemberLimits(command, requireAccount(state));
    case 'ReserveCredits':
      return reserveCredits(command, requireAccount(state));
    case 'CaptureReservation':
      return captureReservation(command, requireAccount(state));
    case 'ReleaseReservation':
      return releaseReservation(command, requireAccount(state));
    case 'ExpireReservations':
      return expireReservations(command, requireAccount(state));
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}
