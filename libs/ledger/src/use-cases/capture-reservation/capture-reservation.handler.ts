import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '@credit-ledger/domain';
import { AccountView } from '../../infrastructure/account-repository';
import { CommandExecutor, Outcome } from '../../infrastructure/command-executor';
import { balanceView } from '../../views/balances.view';
import { captureKey, reservationRecord, reservationView } from '../../views/reservations.view';
import { CaptureReservationCommand } from './capture-reservation.command';

/** The answer to a capture: the closed reservation and the consumption it recorded (the same for every retry). */
export function capturedView(session: AccountView, reservationId: string) {
  const record = reservationRecord(session, reservationId);
  const consumptionId = record.capture?.consumptionId ?? '';
  const consumption = (session.state as OpenAccountState).index.consumptions.get(consumptionId);
  if (!consumption) throw new Error(`reservation ${reservationId} has no captured consumption`);
  const position = session.positionOf(captureKey(reservationId));
  return {
    ...reservationView(record),
    consumption: {
      consumptionId,
      creditsCharged: consumption.creditsCharged,
      units: consumption.units,
      pricedBy: consumption.pricedBy,
      rate: consumption.rate,
      alreadyPurchased: consumption.alreadyPurchased,
      balance: balanceView(consumption.creditType, consumption.balanceAfter),
      position,
    },
    position,
  };
}

@CommandHandler(CaptureReservationCommand)
export class CaptureReservationHandler implements ICommandHandler<CaptureReservationCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: CaptureReservationCommand): Promise<Outcome<ReturnType<typeof capturedView>>> {
    return this.executor.decideOne(
      command.accountId,
      command.caller,
      captureKey(command.data.reservationId),
      (at) => ({ type: 'CaptureReservation', at, data: command.data }),
      (session) => capturedView(session, command.data.reservationId),
    );
  }
}
