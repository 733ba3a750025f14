import { Body, Controller, Delete, Get, HttpCode, Inject, Logger, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Caller, Principal } from '@credit-ledger/domain';
import { EventStore } from '@credit-ledger/event-store';
import { AccountIdPipe, AllowRoles, ApiError, Ctx, CurrentPrincipal, validationFailed } from '@credit-ledger/http';
import { ApiKeyRecord, ApiKeyStore } from '../../auth/api-key-store';
import { accountStream } from '../../infrastructure/stream-names';
import { EVENT_STORE } from '../../tokens';
import { arrayOf, instant, nullable, objectOf, str } from '../../views/response-schemas';
import { CreateKeyDto } from './manage-keys.dto';

/** Active keys one account may hold; past it, 409 TOO_MANY_KEYS (revoke some first). */
export const MAX_ACTIVE_KEYS_PER_ACCOUNT = 1_000;

const KEY_RECORD = {
  keyId: str('The public part of the key (clk_<keyId>_…)'),
  role: { type: 'string', enum: ['admin', 'service', 'analyst', 'member'] },
  accountId: str(),
  userId: nullable(str()),
  createdAt: instant(),
  revokedAt: nullable(instant()),
};
export const KEY_RESPONSE = objectOf(KEY_RECORD);
export const CREATED_KEY_RESPONSE = objectOf({ ...KEY_RECORD, key: str('The API key itself: shown in this answer only, never again') });
export const KEYS_RESPONSE = objectOf({ accountId: str(), items: arrayOf(KEY_RESPONSE) });

/**
 * The account's API keys over HTTP, on the same key store as `credit-ledger keys` (the CLI):
 * for the account's admin and the superuser. Admin keys are created by the superuser only.
 */
@ApiTags('keys')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/keys')
export class ManageKeysController {
  private readonly log = new Logger('keys');

  constructor(
    private readonly keys: ApiKeyStore,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  private async requireAccount(accountId: string): Promise<void> {
    const first = await this.store.readStream(accountStream(accountId), { limit: 1 });
    if (first.length === 0) throw new ApiError(404, 'ACCOUNT_NOT_FOUND', 'the account does not exist');
  }

  @Post()
  @AllowRoles('admin')
  @ApiResponse({ status: 201, description: 'the new key, shown once', schema: CREATED_KEY_RESPONSE })
  @ApiResponse({ status: 409, description: `TOO_MANY_KEYS: the account holds ${MAX_ACTIVE_KEYS_PER_ACCOUNT} active keys` })
  @ApiOperation({ summary: 'Creates a member, analyst or service key for the account (admin keys: superuser only); the key is in this answer only' })
  async create(
    @Param('accountId', AccountIdPipe) accountId: string,
    @Body() body: CreateKeyDto,
    @CurrentPrincipal() principal: Principal,
    @Ctx() caller: Caller,
  ) {
    if (body.role === 'member' && !body.userId) throw validationFailed([{ field: 'userId', reason: 'userId is required for a member key' }]);
    if (body.role !== 'member' && body.userId !== undefined) throw validationFailed([{ field: 'userId', reason: 'only member keys are bound to a user' }]);
    if (body.role === 'admin' && principal.kind !== 'superuser') throw new ApiError(403, 'FORBIDDEN', 'only the superuser creates admin keys');
    await this.requireAccount(accountId);
    const active = (await this.keys.list(accountId)).filter((k) => k.revokedAt === null).length;
    if (active >= MAX_ACTIVE_KEYS_PER_ACCOUNT)
      throw new ApiError(409, 'TOO_MANY_KEYS', `the account holds ${MAX_ACTIVE_KEYS_PER_ACCOUNT} active keys; revoke some first`, {
        max: MAX_ACTIVE_KEYS_PER_ACCOUNT,
      });
    const { key, record } = await this.keys.create({ accountId, role: body.role, userId: body.userId });
    this.log.log({ msg: 'key created', keyId: record.keyId, role: record.role, accountId, by: caller.actor });
    return { ...record, key };
  }

  @Get()
  @AllowRoles('admin')
  @ApiResponse({ status: 200, description: 'the account’s keys, oldest first (never the keys themselves)', schema: KEYS_RESPONSE })
  @ApiOperation({ summary: 'Lists the account’s keys, active and revoked (never the keys themselves)' })
  async list(@Param('accountId', AccountIdPipe) accountId: string): Promise<{ accountId: string; items: ApiKeyRecord[] }> {
    await this.requireAccount(accountId);
    return { accountId, items: await this.keys.list(accountId) };
  }

  @Delete(':keyId')
  @HttpCode(200)
  @AllowRoles('admin')
  @ApiResponse({ status: 200, description: 'the key, revoked (revoking a revoked key answers it again)', schema: KEY_RESPONSE })
  @ApiResponse({ status: 404, description: 'KEY_NOT_FOUND: the account has no key with that id (or ACCOUNT_NOT_FOUND)' })
  @ApiOperation({ summary: 'Revokes one of the account’s keys: refused at once by this server, by every other within 1 s' })
  async revoke(@Param('accountId', AccountIdPipe) accountId: string, @Param('keyId') keyId: string, @Ctx() caller: Caller): Promise<ApiKeyRecord> {
    if (!/^[0-9a-f]{12}$/.test(keyId)) throw validationFailed([{ field: 'keyId', reason: 'keyId must be 12 hexadecimal digits' }]);
    await this.requireAccount(accountId);
    const found = (await this.keys.list(accountId)).find((k) => k.keyId === keyId);
    if (!found) throw new ApiError(404, 'KEY_NOT_FOUND', `the account has no key ${keyId}`);
    if (found.revokedAt !== null) return found;
    await this.keys.revoke(keyId);
    this.log.log({ msg: 'key revoked', keyId, accountId, by: caller.actor });
    const revoked = (await this.keys.list(accountId)).find((k) => k.keyId === keyId);
    return revoked ?? found;
  }
}
