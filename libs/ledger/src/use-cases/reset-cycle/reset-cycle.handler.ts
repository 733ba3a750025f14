import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '../../../../domain/src';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { AccountSession } from '../../infrastructure/account-repository';
import { ResetCycleCommand } from './reset-cycle.command';

const cycleKey = (cycleId: string) => `cycle:${cycleId}`;

function cycleView(session: AccountSession, cycleId: string) {
  const s = session.state as OpenAccountState;
  const c = s.index.cycles.get(cycleId);
  if (!c) throw new Error(`cycle ${cycleId} is not in the state`);
  return {
    cycleId,
    previousCycleId: c.previousCycleId,
    startedAt: c.startedAt,
    endsAt: c.endsAt,
    allocations: c.allocations,
    closing: c.closing,
    // The first cycle was opened with the account.
    position: session.positionOf(c.previousCycleId === null ? `open:${s.accountId}` : cycleKey(cycleId)),
  };
}

@CommandHandler(ResetCycleCommand)
export class ResetCycleHandler implements ICommandHandler<ResetCycleCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(c: ResetCycleCommand): Promise<Outcome<ReturnType<typeof cycleView>>> {
    return this.executor.decideOne(c.accountId, c.ctx, cycleKey(c.data.cycleId), (at) => ({ type: 'ResetCycle', at, data: c.data }), (session) => cycleView(session, c.data.cycleId));
  }
}
