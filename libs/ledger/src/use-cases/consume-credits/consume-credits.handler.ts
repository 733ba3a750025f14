import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { ConsumeCreditsCommand } from './consume-credits.command';
import { consumptionKey, consumptionView } from './consumption-view';

@CommandHandler(ConsumeCreditsCommand)
export class ConsumeCreditsHandler implements ICommandHandler<ConsumeCreditsCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(c: ConsumeCreditsCommand): Promise<Outcome<ReturnType<typeof consumptionView>>> {
    return this.executor.decideOne(c.accountId, c.ctx, consumptionKey(c.data.consumptionId), (at) => ({ type: 'ConsumeCredits', at, data: c.data }), (session) => consumptionView(session, c.data.consumptionId));
  }
}
