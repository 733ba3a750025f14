import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { IQueryHandler, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, Ctx, HeavyRead, validationFailed } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { EVENT_STORE, EventStore } from '@credit-ledger/event-store';
import { Clock, LEDGER_CLOCK } from '@credit-ledger/ledger';
import { MinPositionParams, rangeOf, SeriesParams, UserRangeParams } from '../nest/query-params';
import { FILTERS_RESPONSE, USAGE_BY_FEATURE_RESPONSE, USAGE_BY_USER_RESPONSE, USAGE_SERIES_RESPONSE } from '../nest/response-schemas';
import { ProjectionService } from '../nest/projection.service';
import { awaitPosition, requireOpenAccount, scopedUserId } from '../nest/read-access';
import { Bucket } from './time-buckets';
import { MAX_SERIES_BUCKETS, SeriesGroup, UsageQueries, UsageRange } from './usage.query';

export class GetUsageQuery {
  constructor(
    readonly kind: 'byUser' | 'byFeature',
    readonly range: UsageRange,
  ) {}
}
export class GetUsageSeriesQuery {
  constructor(readonly range: UsageRange & { bucket: Bucket; groupBy: SeriesGroup; timeZone: string }) {}
}
export class GetFiltersQuery {
  constructor(
    readonly accountId: string,
    readonly userId?: string,
  ) {}
}

@QueryHandler(GetUsageQuery)
export class GetUsageHandler implements IQueryHandler<GetUsageQuery> {
  constructor(private readonly usage: UsageQueries) {}
  async execute(q: GetUsageQuery) {
    const body = q.kind === 'byUser' ? await this.usage.byUser(q.range) : await this.usage.byFeature(q.range);
    return {
      accountId: q.range.accountId,
      from: new Date(q.range.from).toISOString(),
      to: new Date(q.range.to).toISOString(),
      creditType: q.range.creditType ?? null,
      ...body,
    };
  }
}

@QueryHandler(GetUsageSeriesQuery)
export class GetUsageSeriesHandler implements IQueryHandler<GetUsageSeriesQuery> {
  constructor(private readonly usage: UsageQueries) {}
  async execute(q: GetUsageSeriesQuery) {
    const r = q.range;
    const series = await this.usage.series(r);
    if (!series)
      throw validationFailed([
        { field: 'bucket', reason: `more than ${MAX_SERIES_BUCKETS} buckets between from and to; use a larger bucket or a shorter range` },
      ]);
    return {
      accountId: r.accountId,
      from: new Date(r.from).toISOString(),
      to: new Date(r.to).toISOString(),
      bucket: r.bucket,
      groupBy: r.groupBy,
      timezone: r.timeZone,
      ...series,
    };
  }
}

@QueryHandler(GetFiltersQuery)
export class GetFiltersHandler implements IQueryHandler<GetFiltersQuery> {
  constructor(private readonly usage: UsageQueries) {}
  async execute(q: GetFiltersQuery) {
    return { accountId: q.accountId, ...(await this.usage.filters(q.accountId, q.userId)) };
  }
}

@ApiTags('usage')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId')
export class UsageController {
  constructor(
    private readonly bus: QueryBus,
    private readonly projections: ProjectionService,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  private range(accountId: string, p: UserRangeParams, caller: Caller): UsageRange {
    const { from, to } = rangeOf(p, true, this.clock.now());
    return {
      accountId,
      from: from!,
      to: to!,
      creditType: p.creditType,
      userId: scopedUserId(caller.principal, p.userId),
      feature: p.feature,
      action: p.action,
    };
  }

  @Get('usage/by-user')
  @ApiResponse({ status: 200, description: 'usage per team member', schema: USAGE_BY_USER_RESPONSE })
  @AllowRoles('admin', 'analyst', 'member')
  @ApiOperation({ summary: 'Credits consumed, refunded, net and count per team member over [from, to) (default: last 30 days), with totals' })
  async byUser(@Param('accountId', AccountIdPipe) accountId: string, @Query() p: UserRangeParams, @Ctx() caller: Caller) {
    const range = this.range(accountId, p, caller);
    await requireOpenAccount(this.store, accountId);
    await awaitPosition(this.projections, p.minPosition);
    return this.bus.execute(new GetUsageQuery('byUser', range));
  }

  @Get('usage/by-feature')
  @ApiResponse({ status: 200, description: 'usage per feature and action', schema: USAGE_BY_FEATURE_RESPONSE })
  @AllowRoles('admin', 'analyst', 'member')
  @ApiOperation({ summary: 'Credits consumed, refunded, net, count and distinct users per feature and action over [from, to), with totals' })
  async byFeature(@Param('accountId', AccountIdPipe) accountId: string, @Query() p: UserRangeParams, @Ctx() caller: Caller) {
    const range = this.range(accountId, p, caller);
    await requireOpenAccount(this.store, accountId);
    await awaitPosition(this.projections, p.minPosition);
    return this.bus.execute(new GetUsageQuery('byFeature', range));
  }

  @Get('usage/series')
  @ApiResponse({ status: 200, description: 'the series', schema: USAGE_SERIES_RESPONSE })
  @AllowRoles('admin', 'analyst', 'member')
  @HeavyRead()
  @ApiOperation({ summary: 'Trend points per day/week/month in a time zone, one series per feature/user/creditType/action, empty buckets as zeros' })
  async series(@Param('accountId', AccountIdPipe) accountId: string, @Query() p: SeriesParams, @Ctx() caller: Caller) {
    const range = this.range(accountId, p, caller);
    await requireOpenAccount(this.store, accountId);
    await awaitPosition(this.projections, p.minPosition);
    return this.bus.execute(new GetUsageSeriesQuery({ ...range, bucket: p.bucket ?? 'day', groupBy: p.groupBy ?? 'feature', timeZone: p.timezone ?? 'UTC' }));
  }

  @Get('filters')
  @ApiResponse({ status: 200, description: 'the filter values', schema: FILTERS_RESPONSE })
  @AllowRoles('admin', 'analyst', 'member')
  @ApiOperation({ summary: 'The features (with their actions), users and credit types that have usage in the account' })
  async filters(@Param('accountId', AccountIdPipe) accountId: string, @Query() p: MinPositionParams, @Ctx() caller: Caller) {
    await requireOpenAccount(this.store, accountId);
    await awaitPosition(this.projections, p.minPosition);
    return this.bus.execute(new GetFiltersQuery(accountId, scopedUserId(caller.principal, undefined)));
  }
}
