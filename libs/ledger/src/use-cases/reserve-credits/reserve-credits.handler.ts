import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { reservationKey, reservedView } from '../../views/reservations.view';
import { ReserveCreditsCommand } from './reserve-credits.command';

@CommandHandler(ReserveCreditsCommand)
export class ReserveCreditsHandler implements ICommandHandler<ReserveCreditsCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: ReserveCreditsCommand): Promise<Outcome<ReturnType<typeof reservedView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      reservationKey(command.data.reservationId),
      (at) => ({ type: 'ReserveCredits', at, data: command.data }),
      (session) => reservedView(session, command.data.reservationId),
    );
  }
}
