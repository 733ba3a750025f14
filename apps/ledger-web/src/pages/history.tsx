import { useMemo, useState } from 'react';
import { HistoryTable, type RowActions } from '../components/history-table';
import { RelatedMovements } from '../components/related-movements';
import { Loaded, Problems, Failure } from '../components/states';
import { UsageChart } from '../components/usage-chart';
import { load } from '../api';
import { type AccountView, can, useSession } from '../context';
import { DEFAULT_FILTERS, filtersToParams, GROUP_LABELS, GROUPS, type HistoryFilters, parseFilters, PRESET_LABELS, PRESETS, resolveRange } from '../filters';
import { formatCredits, humanize } from '../format';
import { downloadCsv, historyQuery, seriesQuery } from '../history-data';
import { navigate, useLocation } from '../router';
import { useHistoryRows } from '../use-history-rows';
import { useLoad } from '../use-load';

let zoneOfBrowser: string | undefined;
/** The browser's time zone, looked up once: resolvedOptions() builds a formatter, which costs milliseconds on every render. */
function browserZone(): string {
  zoneOfBrowser ??= Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  return zoneOfBrowser;
}

/**
 * Changes some filters of the page's URL (the URL is the state). It reads the current URL rather
 * than a render's filters, so the callbacks built on it stay the same across filter changes and
 * the memoised table and chart are not redrawn for them.
 */
function setFilters(next: Partial<HistoryFilters>): void {
  const params = new URLSearchParams(window.location.search);
  navigate('/history', filtersToParams({ ...parseFilters(params).filters, ...next }, params.get('account') ?? undefined));
}

/** Credit usage history: filters in the URL, graph, totals, the movements table, CSV export. */
export function HistoryPage({ account }: { account: AccountView }) {
  const { api, me, accountId, accountQuery } = useSession();
  const location = useLocation();
  const { filters, problems } = useMemo(() => parseFilters(location.params), [location.params]);
  const timeZone = filters.tz === 'browser' ? browserZone() : account.schedule.timezone;
  const range = useMemo(() => resolveRange(filters, Date.now(), timeZone, account.cycle, account.previousCycle), [filters, timeZone, account]);
  // A member's own rows; a link naming someone else goes to the server as it is, which refuses it (403).
  const userId = me.role === 'member' ? (filters.user ?? me.userId ?? undefined) : filters.user;
  const id = accountId!;
  const related = filters.consumptionId !== undefined || filters.dataKey !== undefined;

  const catalog = useLoad((retry) => load(() => api.GET('/v1/accounts/{accountId}/filters', { params: { path: { accountId: id } } }), retry), [id]);
  // The series and the first page of rows are requested together, and each is drawn when it arrives.
  const series = useLoad(
    (retry) =>
      load(
        () => api.GET('/v1/accounts/{accountId}/usage/series', { params: { path: { accountId: id }, query: seriesQuery(filters, range, userId, timeZone) } }),
        retry,
      ),
    [id, JSON.stringify(seriesQuery(filters, range, userId, timeZone))],
  );
  const query = historyQuery(filters, range, userId);
  const [exportError, setExportError] = useState<unknown>(null);
  const movements = useHistoryRows(api, id, query, !related, setExportError);
  const seriesData = series.status === 'error' ? undefined : series.data;
  const chartLabels = useMemo(() => seriesData?.buckets.map((b) => b.label) ?? [], [seriesData]);
  const chartSeries = useMemo(
    () => seriesData?.series.map((x) => ({ key: x.key, values: x.points.map((p) => (filters.refunds ? p.net : p.consumed)) })) ?? [],
    [seriesData, filters.refunds],
  );

  const actions: RowActions = useMemo(
    () => ({
      exportRow: (row) =>
        void downloadCsv(
          api,
          id,
          { consumptionId: row.consumptionId ?? undefined, includeRefunds: row.kind === 'refund' ? 'true' : 'false' },
          `credit-usage-${id}-${row.consumptionId}.csv`,
        ).catch(setExportError),
      showRelated: (row) => setFilters({ consumptionId: row.consumptionId ?? undefined, dataKey: row.dataKey ?? undefined }),
      showDataKey: (row) => setFilters({ dataKey: row.dataKey ?? undefined, consumptionId: undefined }),
      showEvent: can(me.role, 'audit')
        ? (row) => navigate('/audit', new URLSearchParams({ ...Object.fromEntries(accountQuery), position: String(row.position) }))
        : undefined,
    }),
    [api, id, me.role, accountQuery],
  );

  const catalogData = catalog.status === 'ok' ? catalog.data : undefined;
  const unknownValues = catalogData
    ? [
        filters.feature && !catalogData.features.some((f) => f.feature === filters.feature)
          ? `No usage of the feature “${filters.feature}” in this account.`
          : null,
        filters.user && !catalogData.users.includes(filters.user) ? `No usage by the team member “${filters.user}” in this account.` : null,
        filters.creditType && !catalogData.creditTypes.includes(filters.creditType)
          ? `No usage of the credit type “${filters.creditType}” in this account.`
          : null,
      ].filter((x): x is string => x !== null)
    : [];

  return (
    <section aria-labelledby="history-title">
      <div className="page-head">
        <h1 id="history-title">Credit usage history</h1>
        <button
          type="button"
          className="primary"
          onClick={() => void downloadCsv(api, id, query, `credit-usage-${id}.csv`).catch(setExportError)}
          data-testid="export-csv"
        >
          Export CSV
        </button>
      </div>
      <Problems problems={[...problems, ...unknownValues]} />
      {exportError !== null && <Failure error={exportError} onRetry={() => setExportError(null)} />}
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Date
          <select
            value={filters.preset}
            onChange={(e) =>
              setFilters({
                preset: e.target.value as HistoryFilters['preset'],
                ...(e.target.value === 'custom' ? { from: range.from.slice(0, 10), to: new Date(Date.parse(range.to) - 1).toISOString().slice(0, 10) } : {}),
              })
            }
          >
            {PRESETS.filter((p) => p !== 'previous-cycle' || account.previousCycle).map((p) => (
              <option key={p} value={p}>
                {PRESET_LABELS[p]}
              </option>
            ))}
          </select>
        </label>
        {filters.preset === 'custom' && (
          <>
            <label>
              From
              <input type="date" value={filters.from ?? ''} onChange={(e) => e.target.value && setFilters({ from: e.target.value })} />
            </label>
            <label>
              To
              <input type="date" value={filters.to ?? ''} onChange={(e) => e.target.value && setFilters({ to: e.target.value })} />
            </label>
          </>
        )}
        {can(me.role, 'teamFilter') && (
          <label>
            Team member
            <select value={filters.user ?? ''} onChange={(e) => setFilters({ user: e.target.value || undefined })} data-testid="filter-user">
              <option value="">Everyone</option>
              {catalogData?.users.map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
              {filters.user && !catalogData?.users.includes(filters.user) && <option value={filters.user}>{filters.user}</option>}
            </select>
          </label>
        )}
        <label>
          Feature
          <select
            value={filters.feature ? `${filters.feature}\u0000${filters.action ?? ''}` : ''}
            onChange={(e) => {
              const [feature, action] = e.target.value.split('\u0000');
              setFilters({ feature: feature || undefined, action: action || undefined });
            }}
            data-testid="filter-feature"
          >
            <option value="">All features</option>
            {catalogData?.features.map((f) => (
              <optgroup key={f.feature} label={humanize(f.feature)}>
                <option value={`${f.feature}\u0000`}>All of {humanize(f.feature)}</option>
                {f.actions.map((a) => (
                  <option key={a} value={`${f.feature}\u0000${a}`}>
                    {humanize(a)}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </label>
        <label>
          Credit type
          <select value={filters.creditType ?? ''} onChange={(e) => setFilters({ creditType: e.target.value || undefined })} data-testid="filter-credit-type">
            <option value="">All credit types</option>
            {catalogData?.creditTypes.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label className="toggle">
          <input type="checkbox" checked={filters.refunds} onChange={(e) => setFilters({ refunds: e.target.checked })} data-testid="filter-refunds" />
          Show refunds
        </label>
        <label className="toggle">
          <input type="checkbox" checked={filters.holds} onChange={(e) => setFilters({ holds: e.target.checked })} data-testid="filter-holds" />
          Show holds
        </label>
      </form>
      <Loaded state={series} what="the usage graph">
        {(s) => (
          <>
            <dl className="totals" data-testid="totals">
              <div>
                <dt>Consumed</dt>
                <dd data-testid="total-consumed">{formatCredits(s.totals.consumed)}</dd>
              </div>
              <div>
                <dt>Refunded</dt>
                <dd data-testid="total-refunded">{formatCredits(s.totals.refunded)}</dd>
              </div>
              <div>
                <dt>Net</dt>
                <dd data-testid="total-net">{formatCredits(s.totals.net)}</dd>
              </div>
            </dl>
            <div className="chart-head">
              <h2>Usage by {s.bucket}</h2>
              <label>
                Group by
                <select value={filters.groupBy} onChange={(e) => setFilters({ groupBy: e.target.value as HistoryFilters['groupBy'] })} data-testid="group-by">
                  {GROUPS.filter((g) => g !== 'user' || can(me.role, 'teamFilter')).map((g) => (
                    <option key={g} value={g}>
                      {GROUP_LABELS[g]}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Time zone
                <select value={filters.tz} onChange={(e) => setFilters({ tz: e.target.value as HistoryFilters['tz'] })}>
                  <option value="account">Account ({account.schedule.timezone})</option>
                  <option value="browser">This browser ({browserZone()})</option>
                </select>
              </label>
            </div>
            {s.series.length === 0 ? (
              <p className="state empty">No usage in this range.</p>
            ) : (
              <UsageChart
                labels={chartLabels}
                series={chartSeries}
                label={`Credits ${filters.refunds ? 'net of refunds' : 'consumed'} per ${s.bucket}, by ${GROUP_LABELS[filters.groupBy].toLowerCase()}`}
              />
            )}
          </>
        )}
      </Loaded>

      {related ? (
        <RelatedMovements
          consumptionId={filters.consumptionId}
          dataKey={filters.dataKey}
          userId={me.role === 'member' ? userId : undefined}
          timeZone={timeZone}
          actions={actions}
          onClose={() => setFilters({ consumptionId: undefined, dataKey: undefined })}
          onError={setExportError}
        />
      ) : (
        <>
          <h2 className="visually-hidden">Movements</h2>
          <Loaded state={movements.state} what="the movements">
            {() =>
              movements.rows.length === 0 ? (
                <p className="state empty">No movement matches these filters.{filters !== DEFAULT_FILTERS ? ' Try a longer range or fewer filters.' : ''}</p>
              ) : (
                <>
                  <p className="count" data-testid="row-count">
                    {movements.rows.length} row{movements.rows.length === 1 ? '' : 's'} loaded{movements.hasMore ? ', more as you scroll' : ''}
                  </p>
                  <HistoryTable
                    rows={movements.rows}
                    timeZone={timeZone}
                    hasMore={movements.hasMore}
                    loadingMore={movements.loadingMore}
                    onLoadMore={movements.loadMore}
                    actions={actions}
                  />
                </>
              )
            }
          </Loaded>
        </>
      )}
    </section>
  );
}
