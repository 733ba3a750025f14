import { useMemo, useState } from 'react';
import { createColumnHelper, flexRender, getCoreRowModel, getSortedRowModel, type SortingState, useReactTable, type ColumnDef } from '@tanstack/react-table';
import { load } from '../api';
import { Link } from '../components/link';
import { Loaded, Problems } from '../components/states';
import { type AccountView, can, useSession } from '../context';
import { filtersToParams, parseFilters, PRESET_LABELS, PRESETS, resolveRange, type HistoryFilters } from '../filters';
import { formatCredits, humanize } from '../format';
import { navigate, useLocation } from '../router';
import { useLoad } from '../use-load';

interface Sums {
  consumed: number;
  refunded: number;
  net: number;
  count: number;
}

/** A sortable table (TanStack Table): click or Enter on a header sorts by it. */
function SortableTable<T extends Sums>({ rows, columns, caption, testId }: { rows: T[]; columns: ColumnDef<T, unknown>[]; caption: string; testId: string }) {
  const [sorting, setSorting] = useState<SortingState>([{ id: 'net', desc: true }]);
  const table = useReactTable({
    data: rows,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  return (
    <table className="simple" data-testid={testId}>
      <caption>{caption}</caption>
      <thead>
        {table.getHeaderGroups().map((g) => (
          <tr key={g.id}>
            {g.headers.map((h) => {
              const sorted = h.column.getIsSorted();
              return (
                <th key={h.id} scope="col" aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}>
                  <button type="button" className="sort" onClick={h.column.getToggleSortingHandler()}>
                    {flexRender(h.column.columnDef.header, h.getContext())} {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''}
                  </button>
                </th>
              );
            })}
          </tr>
        ))}
      </thead>
      <tbody>
        {table.getRowModel().rows.map((r) => (
          <tr key={r.id}>
            {r.getVisibleCells().map((c) => (
              <td key={c.id} className={typeof c.getValue() === 'number' ? 'numeric' : undefined}>
                {flexRender(c.column.columnDef.cell, c.getContext())}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function sumColumns<T extends Sums>(): ColumnDef<T, unknown>[] {
  const h = createColumnHelper<T>();
  return [
    h.accessor((r) => r.consumed, { id: 'consumed', header: 'Consumed', cell: (c) => formatCredits(c.getValue()) }),
    h.accessor((r) => r.refunded, { id: 'refunded', header: 'Refunded', cell: (c) => formatCredits(c.getValue()) }),
    h.accessor((r) => r.net, { id: 'net', header: 'Net', cell: (c) => formatCredits(c.getValue()) }),
    h.accessor((r) => r.count, { id: 'count', header: 'Requests', cell: (c) => formatCredits(c.getValue()) }),
  ] as ColumnDef<T, unknown>[];
}

/** Usage by team member and by feature/action over a range; each row opens the history with that filter. */
export function BreakdownPage({ account }: { account: AccountView }) {
  const { api, me, accountId, accountQuery } = useSession();
  const id = accountId!;
  const location = useLocation();
  const { filters, problems } = useMemo(() => parseFilters(location.params), [location.params]);
  const tz = account.schedule.timezone;
  const range = useMemo(() => resolveRange(filters, Date.now(), tz, account.cycle, account.previousCycle), [filters, tz, account]);
  const picked = accountQuery.get('account') ?? undefined;
  const historyLink = (extra: Partial<HistoryFilters>) => filtersToParams({ ...filters, ...extra }, picked);
  const query = { from: range.from, to: range.to, creditType: filters.creditType };
  const byUser = useLoad(
    (retry) => load(() => api.GET('/v1/accounts/{accountId}/usage/by-user', { params: { path: { accountId: id }, query } }), retry),
    [id, JSON.stringify(query)],
    can(me.role, 'byMember'),
  );
  const byFeature = useLoad(
    (retry) => load(() => api.GET('/v1/accounts/{accountId}/usage/by-feature', { params: { path: { accountId: id }, query } }), retry),
    [id, JSON.stringify(query)],
  );
  type UserRow = Sums & { userId: string };
  type FeatureRow = Sums & { feature: string; action: string; distinctUsers: number };
  const userColumns = useMemo(() => {
    const h = createColumnHelper<UserRow>();
    return [
      h.accessor('userId', {
        header: 'Team member',
        cell: (c) => (
          <Link to="/history" params={historyLink({ user: c.getValue() })}>
            {c.getValue()}
          </Link>
        ),
      }),
      ...sumColumns<UserRow>(),
    ] as ColumnDef<UserRow, unknown>[];
  }, [filters, picked]);
  const featureColumns = useMemo(() => {
    const h = createColumnHelper<FeatureRow>();
    return [
      h.accessor('feature', {
        header: 'Feature',
        cell: (c) => (
          <Link to="/history" params={historyLink({ feature: c.getValue(), action: undefined })}>
            {humanize(c.getValue())}
          </Link>
        ),
      }),
      h.accessor('action', {
        header: 'Action',
        cell: (c) => (
          <Link to="/history" params={historyLink({ feature: c.row.original.feature, action: c.getValue() })}>
            {humanize(c.getValue())}
          </Link>
        ),
      }),
      ...sumColumns<FeatureRow>(),
      h.accessor('distinctUsers', { header: 'Members', cell: (c) => formatCredits(c.getValue()) }),
    ] as ColumnDef<FeatureRow, unknown>[];
  }, [filters, picked]);
  return (
    <section aria-labelledby="breakdown-title">
      <div className="page-head">
        <h1 id="breakdown-title">Breakdown</h1>
        <label>
          Date
          <select
            value={filters.preset === 'custom' ? '30d' : filters.preset}
            onChange={(e) => navigate('/breakdown', filtersToParams({ ...filters, preset: e.target.value as HistoryFilters['preset'] }, picked))}
          >
            {PRESETS.filter((p) => p !== 'custom' && (p !== 'previous-cycle' || account.previousCycle)).map((p) => (
              <option key={p} value={p}>
                {PRESET_LABELS[p]}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Problems problems={problems} />
      {can(me.role, 'byMember') && (
        <Loaded state={byUser} what="usage by team member">
          {(d) =>
            d.items.length === 0 ? (
              <p className="state empty">No usage in this range.</p>
            ) : (
              <SortableTable rows={d.items} columns={userColumns} caption="By team member" testId="by-user" />
            )
          }
        </Loaded>
      )}
      <Loaded state={byFeature} what="usage by feature">
        {(d) =>
          d.items.length === 0 ? (
            <p className="state empty">No usage in this range.</p>
          ) : (
            <SortableTable rows={d.items} columns={featureColumns} caption="By feature and action" testId="by-feature" />
          )
        }
      </Loaded>
    </section>
  );
}
