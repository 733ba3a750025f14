import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { ConsumeCreditsCommand } from './consume-credits.command';
import { consumptionKey, consumptionView } from './consumption-view';

@CommandHandler(ConsumeCreditsCommand)
export class ConsumeCreditsHandler implements ICommandHandler<ConsumeCreditsCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: ConsumeCreditsCommand): Promise<Outcome<ReturnType<typeof consumptionView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      consumptionKey(command.data.consumptionId),
      (at) => ({ type: 'ConsumeCredits', at, data: command.data }),
      (session) => consumptionView(session, command.data.consumptionId),
    );
  }
}
