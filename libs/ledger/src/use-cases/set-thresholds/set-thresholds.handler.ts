import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DEFAULT_THRESHOLDS, OpenAccountState, thresholdId } from '@credit-ledger/domain';
import { AccountView } from '../../infrastructure/account-repository';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { SetThresholdsCommand } from './set-thresholds.command';

const THRESHOLDS_KEY = 'thresholds';

export function thresholdsView(session: AccountView) {
  const s = session.state as OpenAccountState;
  return {
    accountId: s.accountId,
    cycleId: s.cycleId,
    creditTypes: Object.fromEntries(
      Object.keys(s.creditTypes)
        .sort()
        .map((t) => {
          const list = s.thresholds[t] ?? DEFAULT_THRESHOLDS;
          return [
            t,
            { thresholds: list, default: s.thresholds[t] === undefined, alerted: list.map(thresholdId).filter((id) => s.creditTypes[t].alerted.includes(id)) },
          ];
        }),
    ),
    position: session.positionOf(THRESHOLDS_KEY),
  };
}

@CommandHandler(SetThresholdsCommand)
export class SetThresholdsHandler implements ICommandHandler<SetThresholdsCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: SetThresholdsCommand): Promise<Outcome<ReturnType<typeof thresholdsView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      THRESHOLDS_KEY,
      (at) => ({ type: 'SetThresholds', at, data: { creditTypes: command.creditTypes } }),
      thresholdsView,
    );
  }
}
