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
