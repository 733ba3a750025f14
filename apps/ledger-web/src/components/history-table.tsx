import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { GetAnswer } from '../context';
import { formatDateTime, formatSignedCredits, humanize } from '../format';

export type HistoryRow = GetAnswer<'/v1/accounts/{accountId}/history'>['items'][number];

export interface RowActions {
  readonly exportRow: (row: HistoryRow) => void;
  readonly showRelated: (row: HistoryRow) => void;
  readonly showDataKey: (row: HistoryRow) => void;
  /** Absent when the role may not read the audit trail. */
  readonly showEvent?: (row: HistoryRow) => void;
}

const column = createColumnHelper<HistoryRow>();

/** Rows of reservations (with "Show holds"): no credits move, so they read as what happened to the hold. */
const HOLD_LABELS: Record<string, string> = { hold: 'held', hold_release: 'ended', hold_expiry: 'expired' };
export const isHoldRow = (row: HistoryRow) => Object.hasOwn(HOLD_LABELS, row.kind);

function rowClass(row: HistoryRow): string | undefined {
  return row.kind === 'refund' ? 'refund-row' : isHoldRow(row) ? 'hold-row' : undefined;
}
const ROW_HEIGHT = 40;
/** Room the row menu needs below its button (four items). */
const MENU_HEIGHT = 180;

/** The fixed menu's place: under its button, or above it when the window has no room below. */
function placeBelowOrAbove(button: HTMLElement): { top?: number; bottom?: number; right: number } {
  const r = button.getBoundingClientRect();
  const right = Math.max(4, window.innerWidth - r.right);
  return r.bottom + MENU_HEIGHT > window.innerHeight ? { bottom: window.innerHeight - r.top + 4, right } : { top: r.bottom + 4, right };
}

function RowMenu({ row, actions }: { row: HistoryRow; actions: RowActions }) {
  const [open, setOpen] = useState(false);
  // Where the menu goes, from its button's place on screen (the menu is fixed, so that the table's
  // overflow does not clip it).
  const [place, setPlace] = useState<{ top?: number; bottom?: number; right: number }>({ right: 0 });
  const ref = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent) {
        if (e.key !== 'Escape') return;
        // Back to the button that opened it, so the keyboard goes on from there.
        setOpen(false);
        trigger.current?.focus();
      } else if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    // The menu is fixed: it follows its button when the page or the table scrolls.
    const follow = () => trigger.current && setPlace(placeBelowOrAbove(trigger.current));
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    document.addEventListener('scroll', follow, true);
    window.addEventListener('resize', follow);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
      document.removeEventListener('scroll', follow, true);
      window.removeEventListener('resize', follow);
    };
  }, [open]);
  const item = (label: string, run: () => void) => (
    <button
      type="button"
      role="menuitem"
      onClick={() => {
        setOpen(false);
        run();
      }}
    >
      {label}
    </button>
  );
  return (
    <div className="row-menu" ref={ref}>
      <button
        ref={trigger}
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label={`More actions for the row of ${row.occurredAt}`}
        onClick={() => {
          setPlace(placeBelowOrAbove(trigger.current!));
          setOpen((o) => !o);
        }}
      >
        ⋯
      </button>
      {open && (
        <div role="menu" className="menu" style={place}>
          {row.consumptionId && item('Export this row as CSV', () => actions.exportRow(row))}
          {row.consumptionId && item('Show related movements (the consumption and its refunds)', () => actions.showRelated(row))}
          {row.dataKey && item(`Show every access to ${row.dataKey}`, () => actions.showDataKey(row))}
          {actions.showEvent && item('Show its event in the audit trail', () => actions.showEvent!(row))}
        </div>
      )}
    </div>
  );
}

/**
 * The movements table: TanStack Table for the columns, TanStack Virtual for the rows (only the
 * visible ones are in the DOM, so 10,000+ loaded rows scroll smoothly). Date and Feature stay
 * frozen while the table scrolls sideways; the next keyset page loads near the bottom. Memoised:
 * a filter change does not redraw it until its new rows arrive.
 */
export const HistoryTable = memo(function HistoryTable({
  rows,
  timeZone,
  hasMore,
  loadingMore,
  onLoadMore,
  actions,
  label = 'Credit movements',
  compact = false,
  testId = 'history-scroll',
}: {
  rows: readonly HistoryRow[];
  timeZone: string;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
  actions: RowActions;
  /** The region's accessible name (several tables can share a page). */
  label?: string;
  /** As tall as its rows, up to a cap (a short list of related movements). */
  compact?: boolean;
  testId?: string;
}) {
  const columns = useMemo(
    () => [
      column.accessor('occurredAt', { header: 'Date', cell: (c) => formatDateTime(c.getValue(), timeZone), meta: { frozen: 'first' } }),
      column.accessor('feature', {
        header: 'Feature',
        cell: (c) => {
          const row = c.row.original;
          if (row.kind === 'consumption' || row.kind === 'refund') return humanize(c.getValue());
          if (isHoldRow(row))
            return (
              <>
                <span className="hold-badge">{humanize(row.kind)}</span> {row.feature ? humanize(row.feature) : ''}
              </>
            );
          return humanize(row.kind);
        },
        meta: { frozen: 'second' },
      }),
      column.accessor('action', { header: 'Action', cell: (c) => humanize(c.getValue()) }),
      column.accessor('description', { header: 'Description', cell: (c) => c.getValue() ?? '' }),
      column.accessor('credits', {
        header: 'Credits',
        cell: (c) =>
          isHoldRow(c.row.original) ? (
            // Nothing moves on a hold row (credits 0): what happened to the hold, its amount in the description.
            <span className="credits hold">{HOLD_LABELS[c.row.original.kind]}</span>
          ) : (
            <span className={c.getValue() < 0 ? 'credits refund' : 'credits'}>
              {formatSignedCredits(c.getValue())}
              {c.row.original.kind === 'refund' ? ' (refund)' : c.row.original.alreadyPurchased ? ' (already purchased)' : ''}
            </span>
          ),
        meta: { numeric: true },
      }),
      column.accessor('dataRequested', { header: 'Data requested', cell: (c) => c.getValue() ?? '' }),
      column.accessor('userId', { header: 'User', cell: (c) => c.getValue() ?? '' }),
      column.accessor('creditType', { header: 'Credit type', cell: (c) => c.getValue() ?? '' }),
      column.accessor('reservationId', { header: 'Reservation', cell: (c) => (c.getValue() ? <code title={c.getValue()!}>{c.getValue()}</code> : '') }),
      column.display({
        id: 'menu',
        header: () => <span className="visually-hidden">Actions</span>,
        cell: (c) => <RowMenu row={c.row.original} actions={actions} />,
      }),
    ],
    [timeZone, actions],
  );
  const data = useMemo(() => [...rows], [rows]);
  const table = useReactTable({ data, columns, getCoreRowModel: getCoreRowModel(), getRowId: (r) => String(r.rowId) });
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: data.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = virtual.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (last && hasMore && !loadingMore && last.index >= data.length - 25) onLoadMore();
  }, [last, hasMore, loadingMore, data.length, onLoadMore]);
  const tableRows = table.getRowModel().rows;
  const padTop = items.length ? items[0].start : 0;
  const padBottom = items.length ? virtual.getTotalSize() - items[items.length - 1].end : 0;
  return (
    <div className={compact ? 'table-scroll compact' : 'table-scroll'} ref={scroller} tabIndex={0} role="region" aria-label={label} data-testid={testId}>
      <table className="history" aria-rowcount={data.length + 1}>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((h) => {
                const meta = h.column.columnDef.meta as { frozen?: string; numeric?: boolean } | undefined;
                return (
                  <th
                    key={h.id}
                    scope="col"
                    className={[meta?.frozen ? `frozen ${meta.frozen}` : '', meta?.numeric ? 'numeric' : ''].join(' ').trim() || undefined}
                  >
                    {flexRender(h.column.columnDef.header, h.getContext())}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {padTop > 0 && (
            <tr aria-hidden="true" className="spacer">
              <td style={{ height: padTop }} colSpan={columns.length} />
            </tr>
          )}
          {items.map((v) => {
            const row = tableRows[v.index];
            if (!row) return null;
            return (
              <tr
                key={row.id}
                data-index={v.index}
                aria-rowindex={v.index + 2}
                className={rowClass(row.original)}
                data-kind={row.original.kind}
                data-row-id={row.original.rowId}
              >
                {row.getVisibleCells().map((cell) => {
                  const meta = cell.column.columnDef.meta as { frozen?: string; numeric?: boolean } | undefined;
                  return (
                    <td key={cell.id} className={[meta?.frozen ? `frozen ${meta.frozen}` : '', meta?.numeric ? 'numeric' : ''].join(' ').trim() || undefined}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  );
                })}
              </tr>
            );
          })}
          {padBottom > 0 && (
            <tr aria-hidden="true" className="spacer">
              <td style={{ height: padBottom }} colSpan={columns.length} />
            </tr>
          )}
        </tbody>
      </table>
      {loadingMore && <p className="state loading">Loading more rows…</p>}
    </div>
  );
});
