import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { Outcome } from '../../http/views';
import { ConsumeCreditsCommand } from './consume-credits.command';
import { consumptionKey, consumptionView } from './consumption-view';

@CommandHandler(ConsumeCreditsCommand)
export class ConsumeCreditsHandler implements ICommandHandler<ConsumeCreditsCommand> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(c: ConsumeCreditsCommand): Promise<Outcome<ReturnType<typeof consumptionView>>> {
    const at = this.clock.now().toISOString();
    return this.executor.execute(c.accountId, { actor: c.ctx.actor, correlationId: c.ctx.correlationId, recordedAt: at }, (session) => {
      const kind = session.decide(consumptionKey(c.data.consumptionId), { type: 'ConsumeCredits', at, data: c.data });
      return () => ({ status: kind === 'created' ? 201 : 200, body: consumptionView(session, c.data.consumptionId) });
    });
  }
}
