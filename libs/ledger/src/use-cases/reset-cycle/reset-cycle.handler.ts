import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '@credit-ledger/domain';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { AccountView } from '../../infrastructure/account-repository';
import { ResetCycleCommand } from './reset-cycle.command';

const cycleKey = (cycleId: string) => `cycle:${cycleId}`;

function cycleView(session: AccountView, cycleId: string) {
  const s = session.state as OpenAccountState;
  const cycle = s.index.cycles.get(cycleId);
  if (!cycle) throw new Error(`cycle ${cycleId} is not in the state`);
  return {
    cycleId,
    previousCycleId: cycle.previousCycleId,
    startedAt: cycle.startedAt,
    endsAt: cycle.endsAt,
    allocations: cycle.allocations,
    closing: cycle.closing,
    // The first cycle was opened with the account.
    position: session.positionOf(cycle.previousCycleId === null ? `open:${s.accountId}` : cycleKey(cycleId)),
  };
}

@CommandHandler(ResetCycleCommand)
export class ResetCycleHandler implements ICommandHandler<ResetCycleCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: ResetCycleCommand): Promise<Outcome<ReturnType<typeof cycleView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      cycleKey(command.data.cycleId),
      (at) => ({ type: 'ResetCycle', at, data: command.data }),
      (session) => cycleView(session, command.data.cycleId),
    );
  }
}
