import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, answer, Ctx, HttpOutcome, HttpReply, ReservationIdPipe } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { CAPTURE_RESPONSE } from '../../views/response-schemas';
import { CaptureReservationCommand } from './capture-reservation.command';
import { CaptureReservationDto } from './capture-reservation.dto';

@ApiTags('reservations')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/reservations/:reservationId/capture')
export class CaptureReservationController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @ApiResponse({ status: 201, description: 'the consumption recorded and the rest released, in one append', schema: CAPTURE_RESPONSE })
  @ApiResponse({ status: 200, description: 'idempotent retry with the same consumptionId: the first outcome', schema: CAPTURE_RESPONSE })
  @ApiResponse({
    status: 409,
    description: 'CAPTURE_EXCEEDS_RESERVATION, RESERVATION_EXPIRED, RESERVATION_NOT_OPEN, RESERVATION_NOT_FOUND, IDEMPOTENCY_KEY_REUSED',
  })
  @AllowRoles('admin', 'service')
  @ApiOperation({ summary: 'Capture what the work really cost (at most what is held; 0 is free): the consumption is recorded, the rest released' })
  async capture(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Param('reservationId', ReservationIdPipe) reservationId: string,
    @Body() dto: CaptureReservationDto,
    @Ctx() caller: Caller,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    const data = {
      reservationId,
      consumptionId: dto.consumptionId,
      credits: dto.credits ?? undefined,
      description: dto.description ?? undefined,
      dataRequested: dto.dataRequested ?? undefined,
    };
    return answer(res, await this.commands.execute<ICommand, HttpOutcome<unknown>>(new CaptureReservationCommand(accountId, data, caller)));
  }
}
