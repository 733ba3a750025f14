import { OpenAccount } from '../commands';
import { DomainErrorCode, refuse } from '../errors';
import { cycleIdAt, cycleStartAtOrBefore, nextCycleBoundaryAfter, scheduleProblem } from '../schedule';
import { AccountState, openAccountFingerprint } from '../state';
import { ratesOf } from '../plan';
import { accepted, Decision, DUPLICATE, requireValidRates } from './decision';

export function openAccount(command: OpenAccount, state: AccountState): Decision {
  const { accountId, name, plan } = command.data;
  if (state.status === 'open') {
    if (state.openFingerprint === openAccountFingerprint(name, plan)) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `account ${accountId} already exists with another name or plan`, {
      accountId,
    });
  }
  const problem = scheduleProblem(plan.cycle);
  if (problem) refuse(DomainErrorCode.InvalidSchedule, problem, { field: 'plan.cycle' });
  requireValidRates(ratesOf(plan), plan.creditTypes);
  const at = new Date(command.at);
  const cycleStartedAt = cycleStartAtOrBefore(plan.cycle, at);
  return accepted([
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
  ]);
}
