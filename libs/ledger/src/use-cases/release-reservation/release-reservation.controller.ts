import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply, ReservationIdPipe } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { RELEASE_RESPONSE } from '../../views/response-schemas';
import { ReleaseReservationCommand } from './release-reservation.command';
import { ReleaseReservationDto } from './release-reservation.dto';

@ApiTags('reservations')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/reservations/:reservationId/release')
export class ReleaseReservationController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(200)
  @ApiResponse({ status: 200, description: 'released (or already released or expired: idempotent)', schema: RELEASE_RESPONSE })
  @ApiResponse({ status: 409, description: 'RESERVATION_NOT_OPEN (captured), RESERVATION_NOT_FOUND' })
  @AllowRoles('admin', 'service')
  @ApiOperation({ summary: 'Give the held credits back. Idempotent: releasing again, or after expiry, answers the reservation as it stands' })
  async release(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Param('reservationId', ReservationIdPipe) reservationId: string,
    @Body() dto: ReleaseReservationDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    return answer(
      res,
      await this.commands.execute<ICommand, HttpOutcome<unknown>>(new ReleaseReservationCommand(accountId, reservationId, dto.reason, caller)),
    );
  }
}
