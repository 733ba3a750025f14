import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DomainErrorCode, dueScheduledCycles, nextScheduledCycle, OpenAccountState, refuse } from '@credit-ledger/domain';
import { AccountSession } from '../../infrastructure/account-repository';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { RunScheduledResetsCommand } from './run-scheduled-resets.command';

/** Scheduled resets decided in one append at most; the job asks again while `more`. */
export const MAX_RESETS_PER_APPEND = 500;

export interface ScheduledResetsOutcome {
  readonly accountId: string;
  /** Cycles opened by this call (or, in a dry run, that would be), in order. */
  readonly cycles: readonly string[];
  /** The account's next due time after this call: the open cycle's end, or an open reservation's expiry if sooner. */
  readonly cycleEndsAt: string;
  /** Reservations this call wrote ReservationExpired for. */
  readonly reservationsExpired: number;
  /** More cycles are due than one append carries: call again. */
  readonly more: boolean;
}

function requireOpen(session: AccountSession): OpenAccountState {
  if (session.state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
  return session.state;
}

/**
 * The billing job's unit of work on one account: under the account's lock, with its state caught
 * up, decide `ScheduledReset` for each boundary passed, with the cycle id the schedule derives,
 * then `ExpireReservations` (the sweeper: reservations past their expiry end as expired).
 * A second job (or a retry after a crash) finds those ids taken: a duplicate, nothing appended;
 * another process that wrote in between makes the append fail on its expected revision, and the
 * retry decides again on the new state.
 */
@CommandHandler(RunScheduledResetsCommand)
export class RunScheduledResetsHandler implements ICommandHandler<RunScheduledResetsCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: RunScheduledResetsCommand): Promise<ScheduledResetsOutcome> {
    if (command.dryRun) {
      return this.executor.read(command.accountId, (session) => {
        const s = requireOpen(session);
        const due = dueScheduledCycles(s, command.upTo, MAX_RESETS_PER_APPEND);
        return {
          accountId: command.accountId,
          cycles: due.map((d) => d.cycleId),
          cycleEndsAt: due.length ? due[due.length - 1].endsAt : s.cycleEndsAt,
          reservationsExpired: s.holds.open.filter((hold) => hold.expiresAt <= command.upTo).length,
          more: false,
        };
      });
    }
    return this.executor.execute(
      command.accountId,
      command.caller,
      (session, at) => {
        const upTo = command.upTo < at ? command.upTo : at;
        const cycles: string[] = [];
        for (let n = 0; n < MAX_RESETS_PER_APPEND; n++) {
          const s = requireOpen(session);
          if (s.cycleEndsAt > upTo) break;
          const { cycleId } = nextScheduledCycle(s);
          if (session.decide(`cycle:${cycleId}`, { type: 'ScheduledReset', at, data: { cycleId } }) === 'created') cycles.push(cycleId);
        }
        // The sweeper: reservations past their expiry end as expired now (a reset above released the others).
        // Decided at upTo (never beyond it: no reset past the run's instant), once the resets above brought the cycle past upTo.
        const current = requireOpen(session);
        const before = current.holds.open.length;
        const sweepDue = current.cycleEndsAt > upTo && current.holds.nextExpiry !== null && current.holds.nextExpiry <= upTo;
        if (sweepDue) session.decide(`sweep:${upTo}`, { type: 'ExpireReservations', at: upTo, data: {} });
        const reservationsExpired = before - requireOpen(session).holds.open.length;
        return (after) => {
          const s = after.state as OpenAccountState;
          const next = s.holds.nextExpiry !== null && s.holds.nextExpiry < s.cycleEndsAt ? s.holds.nextExpiry : s.cycleEndsAt;
          return { accountId: command.accountId, cycles, cycleEndsAt: next, reservationsExpired, more: s.cycleEndsAt <= upTo };
        };
      },
      'ScheduledReset',
    );
  }
}
