import { Injectable, PipeTransform } from '@nestjs/common';
import { CLIENT_ID_PATTERN } from '@credit-ledger/domain';
import { validationFailed } from './api-error';

@Injectable()
export class AccountIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!CLIENT_ID_PATTERN.test(value)) throw validationFailed([{ field: 'accountId', reason: `accountId must match ${CLIENT_ID_PATTERN}` }]);
    return value;
  }
}

/** A client-chosen id in the path (a reservationId): 400 naming it when malformed. */
@Injectable()
export class ReservationIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!CLIENT_ID_PATTERN.test(value)) throw validationFailed([{ field: 'reservationId', reason: `reservationId must match ${CLIENT_ID_PATTERN}` }]);
    return value;
  }
}
