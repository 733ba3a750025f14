import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Principal, ROLES } from '@credit-ledger/domain';
import { AllowRoles, CurrentPrincipal } from '@credit-ledger/http';
import { nullable, objectOf, str } from '../../views/response-schemas';

export const ME_RESPONSE = objectOf({
  role: { type: 'string', enum: ['superuser', ...ROLES], description: 'superuser: the LEDGER_ADMIN_KEY, every account' },
  accountId: nullable(str('The account the key is scoped to; null for the superuser')),
  userId: nullable(str('member keys: the team member the key speaks for')),
  keyId: nullable(str('The key id (null for the superuser)')),
});

/** Who the presented key is: what a console needs to show only what the role allows. */
export function meOf(principal: Principal) {
  switch (principal.kind) {
    case 'superuser':
      return { role: 'superuser', accountId: null, userId: null, keyId: null };
    case 'key':
      return { role: principal.role, accountId: principal.accountId, userId: principal.userId, keyId: principal.keyId };
    case 'internal':
      return { role: 'superuser', accountId: null, userId: null, keyId: null };
    default: {
      const unknownKind: never = principal;
      throw new Error(`unknown principal ${JSON.stringify(unknownKind)}`);
    }
  }
}

@ApiTags('keys')
@ApiBearerAuth()
@Controller('v1/me')
export class GetMeController {
  @Get()
  @AllowRoles('admin', 'service', 'analyst', 'member')
  @ApiResponse({ status: 200, description: 'the role, account and user of the key', schema: ME_RESPONSE })
  @ApiOperation({ summary: 'Who this API key is: its role, the account it is scoped to and, for a member, its user' })
  me(@CurrentPrincipal() principal: Principal) {
    return meOf(principal);
  }
}
