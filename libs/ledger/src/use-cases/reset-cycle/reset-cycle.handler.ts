import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '../../../../domain/src';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { AccountSession } from '../../infrastructure/account-repository';
import { Outcome } from '../../http/views';
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
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(c: ResetCycleCommand): Promise<Outcome<ReturnType<typeof cycleView>>> {
    const at = this.clock.now().toISOString();
    return this.executor.execute(c.accountId, { actor: c.ctx.actor, correlationId: c.ctx.correlationId, recordedAt: at }, (session) => {
      const kind = session.decide(cycleKey(c.data.cycleId), { type: 'ResetCycle', at, data: c.data });
      return () => ({ status: kind === 'created' ? 201 : 200, body: cycleView(session, c.data.cycleId) });
    });
  }
}
