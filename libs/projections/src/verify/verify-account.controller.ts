import { Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, ApiError, HeavyRead } from '@credit-ledger/http';
import { EVENT_STORE, EventStore, verifyAccountChain } from '@credit-ledger/event-store';
import { accountStream, arrayOf, int, nullable, objectOf, str } from '@credit-ledger/ledger';
import { ProjectionService } from '../nest/projection.service';
import { requireOpenAccount } from '../nest/read-access';
import { MAX_REPORTED_DIFFERENCES, verifyReadModels } from '../ops/verify';

/**
 * The most events one account may have for an HTTP verify: it reads them all and holds the
 * expected history rows in memory (about 1 KB each), so the cost stays bounded. A larger account
 * is verified with `credit-ledger verify --account <id>`.
 */
export const MAX_VERIFY_ACCOUNT_EVENTS = 200_000;

export const VERIFY_RESPONSE = objectOf({
  accountId: str(),
  ok: { type: 'boolean', description: "true when the account's hash chain holds and every read-model row and balance equals what the events give" },
  chain: objectOf({
    ok: { type: 'boolean', description: "the account's hash chain recomputed from its first event holds" },
    eventsChecked: int(),
    lastHash: str('The hash of the last event verified'),
    firstBreak: nullable(
      objectOf({ position: int(), problem: str('changed, missing, reordered, inserted or unhashed'), detail: str() }, { revision: int(), streamId: str() }),
    ),
  }),
  eventsChecked: int(),
  differenceCount: int('Differences found in all'),
  differences: arrayOf(
    objectOf(
      {
        readModel: str('balances, balances (fold), history, usage_by_user, usage_by_feature, usage_hourly, filter_catalog, accounts, history_data_keys'),
        key: str(),
      },
      {
        expected: { description: 'What the events give (absent: no such row expected)' },
        actual: { description: 'What the read model holds (absent: missing row)' },
      },
    ),
  ),
});

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/verify')
export class VerifyAccountController {
  constructor(
    private readonly projections: ProjectionService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Post()
  @HttpCode(200)
  @HeavyRead()
  @AllowRoles('admin', 'analyst')
  @ApiResponse({ status: 200, description: 'the comparison (ok, or the differences)', schema: VERIFY_RESPONSE })
  @ApiResponse({ status: 409, description: `ACCOUNT_TOO_LARGE_TO_VERIFY: more than ${MAX_VERIFY_ACCOUNT_EVENTS} events; use credit-ledger verify --account` })
  @ApiOperation({
    summary: `Recomputes the account's hash chain, then re-derives its balances (the domain's fold) and read-model rows from its events and lists every difference (the first ${MAX_REPORTED_DIFFERENCES}); a heavy read, at most ${MAX_VERIFY_ACCOUNT_EVENTS} events`,
  })
  async verify(@Param('accountId', AccountIdPipe) accountId: string) {
    await requireOpenAccount(this.store, accountId);
    const beyond = await this.store.readStream(accountStream(accountId), { fromRevision: MAX_VERIFY_ACCOUNT_EVENTS, limit: 1 });
    if (beyond.length > 0)
      throw new ApiError(
        409,
        'ACCOUNT_TOO_LARGE_TO_VERIFY',
        `the account has more than ${MAX_VERIFY_ACCOUNT_EVENTS} events: run credit-ledger verify --account ${accountId}`,
        { maxEvents: MAX_VERIFY_ACCOUNT_EVENTS },
      );
    // The events themselves first: a read model that agrees with edited events proves nothing.
    const chain = await verifyAccountChain(this.store, accountStream(accountId));
    const report = await verifyReadModels(this.store, this.projections.readModels, { accountId });
    const chainBreak = chain.firstBreak
      ? { position: chain.firstBreak.position, revision: chain.firstBreak.revision, problem: chain.firstBreak.problem, detail: chain.firstBreak.detail }
      : null;
    return {
      accountId,
      ok: report.differenceCount === 0 && chainBreak === null,
      chain: { ok: chainBreak === null, eventsChecked: chain.eventsChecked, lastHash: chain.lastHash, firstBreak: chainBreak },
      eventsChecked: report.eventsChecked,
      differenceCount: report.differenceCount,
      differences: report.differences,
    };
  }
}
