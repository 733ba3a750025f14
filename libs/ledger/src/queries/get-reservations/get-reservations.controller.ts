import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { AccountIdPipe, AllowRoles, ApiError, Ctx, ReservationIdPipe, validationFailed } from '@credit-ledger/http';
import { Caller, CLIENT_ID_PATTERN, ReservationStatus, USER_ID_PATTERN } from '@credit-ledger/domain';
import { RESERVATION_READ_RESPONSE, RESERVATIONS_RESPONSE } from '../../views/response-schemas';
import { GetReservationQuery, GetReservationsQuery, UnknownCursorError } from './get-reservations.query';

export const DEFAULT_RESERVATIONS_PAGE = 100;
export const MAX_RESERVATIONS_PAGE = 1_000;
const STATUSES: readonly ReservationStatus[] = ['open', 'captured', 'released', 'expired'];

export class ReservationsParams {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: ReservationStatus;

  @ApiPropertyOptional({ description: "Only this member's (a member key: its own, always)" })
  @IsOptional()
  @IsString()
  @Matches(USER_ID_PATTERN)
  userId?: string;

  @ApiPropertyOptional({ default: DEFAULT_RESERVATIONS_PAGE, minimum: 1, maximum: MAX_RESERVATIONS_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_RESERVATIONS_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

/** The reservation id a cursor carries, or a 400 naming it. */
function cursorReservationId(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const reservationId = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!CLIENT_ID_PATTERN.test(reservationId) || Buffer.from(reservationId, 'utf8').toString('base64url') !== cursor) {
    throw validationFailed([{ field: 'cursor', reason: 'is not a cursor this endpoint gave' }]);
  }
  return reservationId;
}

/** A member key reads its own reservations only. */
function memberScope(caller: Caller, requested: string | undefined): string | undefined {
  const principal = caller.principal;
  if (principal.kind === 'key' && principal.role === 'member') {
    if (requested !== undefined && requested !== principal.userId) throw new ApiError(403, 'FORBIDDEN', 'a member key reads only its own reservations');
    return principal.userId ?? undefined;
  }
  return requested;
}

@ApiTags('reservations')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/reservations')
export class GetReservationsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiResponse({ status: 200, description: 'a page of reservations, newest first', schema: RESERVATIONS_RESPONSE })
  @AllowRoles('admin', 'analyst', 'service', 'member')
  @ApiOperation({ summary: 'Reservations, newest first, by status and member; one past its expiry reads as expired. A member key: its own only' })
  async list(@Param('accountId', AccountIdPipe) accountId: string, @Query() p: ReservationsParams, @Ctx() caller: Caller) {
    const userId = memberScope(caller, p.userId?.normalize('NFC'));
    try {
      return await this.queries.execute(
        new GetReservationsQuery(accountId, p.limit ?? DEFAULT_RESERVATIONS_PAGE, p.status, userId, cursorReservationId(p.cursor)),
      );
    } catch (error) {
      if (error instanceof UnknownCursorError) throw validationFailed([{ field: 'cursor', reason: error.message }]);
      throw error;
    }
  }

  @Get(':reservationId')
  @ApiResponse({ status: 200, description: 'the reservation', schema: RESERVATION_READ_RESPONSE })
  @ApiResponse({ status: 404, description: "RESERVATION_NOT_FOUND (a member key: also another member's)" })
  @AllowRoles('admin', 'analyst', 'service', 'member')
  @ApiOperation({ summary: 'One reservation: its status, what it held, what was captured or released, and when' })
  one(@Param('accountId', AccountIdPipe) accountId: string, @Param('reservationId', ReservationIdPipe) reservationId: string, @Ctx() caller: Caller) {
    return this.queries.execute(new GetReservationQuery(accountId, reservationId, memberScope(caller, undefined)));
  }
}
