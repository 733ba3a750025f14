import { Controller, Get, Header, Inject, Param, Query, Res } from '@nestjs/common';
import { IQueryHandler, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { AccountIdPipe, AllowRoles, Ctx, HeavyRead, StreamingReply, validationFailed } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { EVENT_STORE, EventStore } from '@credit-ledger/event-store';
import { Clock, LEDGER_CLOCK } from '@credit-ledger/ledger';
import { HistoryParams, rangeOf } from '../nest/query-params';
import { awaitPosition, requireOpenAccount, scopedUserId } from '../nest/read-access';
import { HISTORY_RESPONSE } from '../nest/response-schemas';
import { ProjectionService } from '../nest/projection.service';
import { decodeCursor, DEFAULT_HISTORY_PAGE, HistoryCursor, HistoryFilter, HistoryQueries, InvalidCursorError } from './history.query';

export class GetHistoryQuery {
  constructor(
    readonly filter: HistoryFilter,
    readonly limit: number,
    readonly cursor?: HistoryCursor,
  ) {}
}

/** A page of the history as the JSON text of `{items, nextCursor}`, written off the event loop (SQLite). */
@QueryHandler(GetHistoryQuery)
export class GetHistoryHandler implements IQueryHandler<GetHistoryQuery> {
  constructor(private readonly queries: HistoryQueries) {}
  async execute(q: GetHistoryQuery): Promise<string> {
    return this.queries.pageJson(q.filter, q.limit, q.cursor);
  }
}

@ApiTags('history')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId')
export class HistoryController {
  constructor(
    private readonly bus: QueryBus,
    private readonly projections: ProjectionService,
    private readonly queries: HistoryQueries,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  private filterOf(accountId: string, p: HistoryParams, caller: Caller): HistoryFilter {
    const { from, to } = rangeOf(p, false, this.clock.now());
    return {
      accountId,
      from: from === undefined ? undefined : new Date(from).toISOString(),
      to: to === undefined ? undefined : new Date(to).toISOString(),
      userId: scopedUserId(caller.principal, p.userId),
      feature: p.feature,
      action: p.action,
      creditType: p.creditType,
      consumptionId: p.consumptionId,
      dataKey: p.dataKey,
      includeRefunds: p.includeRefunds !== 'false',
      includeHolds: p.includeHolds === 'true',
    };
  }

  @Get('history')
  @Header('Content-Type', 'application/json; charset=utf-8') // the page comes as JSON text
  @ApiResponse({ status: 200, description: 'a page of movements, newest first', schema: HISTORY_RESPONSE })
  @AllowRoles('admin', 'analyst', 'member')
  @ApiOperation({ summary: 'Every credit movement, newest first, filtered; keyset pages (pass nextCursor back as cursor)' })
  async history(@Param('accountId', AccountIdPipe) accountId: string, @Query() p: HistoryParams, @Ctx() caller: Caller) {
    const filter = this.filterOf(accountId, p, caller);
    let cursor: HistoryCursor | undefined;
    try {
      cursor = p.cursor === undefined ? undefined : decodeCursor(p.cursor, filter);
    } catch (e) {
      if (e instanceof InvalidCursorError) throw validationFailed([{ field: 'cursor', reason: e.message }]);
      throw e;
    }
    await requireOpenAccount(this.store, accountId);
    await awaitPosition(this.projections, p.minPosition);
    return this.bus.execute<GetHistoryQuery, string>(new GetHistoryQuery(filter, p.limit ?? DEFAULT_HISTORY_PAGE, cursor));
  }

  @Get('history.csv')
  @ApiResponse({
    status: 200,
    description: 'RFC 4180 CSV (CRLF), a header row then one row per movement; formula-leading cells start with an apostrophe',
    content: { 'text/csv': { schema: { type: 'string' } } },
  })
  @AllowRoles('admin', 'analyst', 'member')
  @HeavyRead()
  @ApiProduces('text/csv')
  @ApiOperation({ summary: 'The same rows as /history (same filters, all pages) as RFC 4180 CSV, streamed' })
  async historyCsv(@Param('accountId', AccountIdPipe) accountId: string, @Query() p: HistoryParams, @Ctx() caller: Caller, @Res() res: StreamingReply) {
    const filter = this.filterOf(accountId, p, caller);
    await requireOpenAccount(this.store, accountId);
    await awaitPosition(this.projections, p.minPosition);
    res.status(200);
    res.header('Content-Type', 'text/csv; charset=utf-8');
    res.header('Content-Disposition', `attachment; filename="credit-usage-${accountId}.csv"`);
    // Pages are read and formatted to bytes in CSV threads; the reply pipes them to the client and
    // pulls the next page only when the socket has taken this one (backpressure, flat memory).
    const bytes = Readable.from(this.queries.csvBytes(filter), { objectMode: false });
    res.send(bytes);
    // The heavy-read slot is held until the export is written or the client has gone.
    await finished(bytes).catch(() => undefined);
  }
}
