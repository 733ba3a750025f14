import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { releaseKey, reservationRecord, reservationView } from '../../views/reservations.view';
import { ReleaseReservationCommand } from './release-reservation.command';

/** Releases a reservation; the answer is the reservation as it stands (released, or expired), 200 each time. */
@CommandHandler(ReleaseReservationCommand)
export class ReleaseReservationHandler implements ICommandHandler<ReleaseReservationCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute(command: ReleaseReservationCommand) {
    const outcome = await this.executor.decideOne(
      command.accountId,
      command.caller,
      releaseKey(command.reservationId),
      (at) => ({ type: 'ReleaseReservation', at, data: { reservationId: command.reservationId, reason: command.reason } }),
      (session) => ({ ...reservationView(reservationRecord(session, command.reservationId)), position: session.positionOf(releaseKey(command.reservationId)) }),
    );
    // 200 each time over HTTP; `created` tells the Kafka path whether this release wrote anything.
    return { status: 200 as const, body: outcome.body, created: outcome.status === 201 };
  }
}
