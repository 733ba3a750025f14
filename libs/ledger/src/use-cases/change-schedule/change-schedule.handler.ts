import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '@credit-ledger/domain';
import { AccountView } from '../../infrastructure/account-repository';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { ChangeScheduleCommand } from './change-schedule.command';

const SCHEDULE_KEY = 'schedule';

export function scheduleView(session: AccountView) {
  const s = session.state as OpenAccountState;
  return {
    accountId: s.accountId,
    schedule: s.plan.cycle,
    pendingSchedule: s.pendingSchedule,
    effectiveAt: s.cycleEndsAt,
    cycle: { cycleId: s.cycleId, startedAt: s.cycleStartedAt, endsAt: s.cycleEndsAt },
    position: session.positionOf(SCHEDULE_KEY),
  };
}

@CommandHandler(ChangeScheduleCommand)
export class ChangeScheduleHandler implements ICommandHandler<ChangeScheduleCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: ChangeScheduleCommand): Promise<Outcome<ReturnType<typeof scheduleView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      SCHEDULE_KEY,
      (at) => ({ type: 'ChangeSchedule', at, data: { schedule: command.schedule } }),
      scheduleView,
    );
  }
}
