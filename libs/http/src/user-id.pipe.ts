import { Injectable, PipeTransform } from '@nestjs/common';
import { USER_ID_PATTERN } from '@credit-ledger/domain';
import { validationFailed } from './api-error';

/** A member's id in a path: NFC-normalised ("José" composed or decomposed is one member), then checked like a body's userId. */
@Injectable()
export class UserIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const userId = value.normalize('NFC');
    if (!USER_ID_PATTERN.test(userId)) throw validationFailed([{ field: 'userId', reason: 'userId must be 1..128 printable characters without whitespace' }]);
    return userId;
  }
}
