import type { HistoryItem } from './history.query';

/**
 * The columns a history item is read from, in this order (then the row's dataKey): rows cross
 * from a reader thread as arrays, which cost far less to copy between threads than objects
 * carrying every column's name.
 */
export const ITEM_COLUMNS = [
  'row_id',
  'position',
  'occurred_at',
  'recorded_at',
  'kind',
  'credit_type',
  'feature',
  'action',
  'description',
  'credits',
  'data_requested',
  'user_id',
  'consumption_id',
  'refund_id',
  'grant_id',
  'cycle_id',
  'already_purchased',
  'event_id',
  'units',
  'rate',
  'priced_by',
  'reservation_id',
] as const;

export type ItemColumns = [
  rowId: number,
  position: number,
  occurredAt: string,
  recordedAt: string,
  kind: string,
  creditType: string | null,
  feature: string | null,
  action: string | null,
  description: string | null,
  credits: number,
  dataRequested: string | null,
  userId: string | null,
  consumptionId: string | null,
  refundId: string | null,
  grantId: string | null,
  cycleId: string | null,
  alreadyPurchased: number,
  eventId: string,
  units: number | string | null,
  rate: number | string | null,
  pricedBy: string | null,
  reservationId: string | null,
  dataKey: string | null,
];

/** The item columns of a history row, qualified by `alias` when given. */
export function itemColumns(alias?: string): string {
  return ITEM_COLUMNS.map((column) => (alias === undefined ? column : `${alias}.${column}`)).join(', ');
}

/** A history item from its columns (ITEM_COLUMNS order, then the dataKey). */
export function toItem(r: ItemColumns): HistoryItem {
  return {
    rowId: r[0],
    position: r[1],
    occurredAt: r[2],
    recordedAt: r[3],
    kind: r[4],
    creditType: r[5],
    feature: r[6],
    action: r[7],
    description: r[8],
    credits: r[9],
    dataRequested: r[10],
    userId: r[11],
    consumptionId: r[12],
    refundId: r[13],
    grantId: r[14],
    cycleId: r[15],
    alreadyPurchased: r[16] === 1,
    dataKey: r[22] ?? null,
    eventId: r[17],
    units: r[18] === null ? null : Number(r[18]),
    rate: r[19] === null ? null : Number(r[19]),
    pricedBy: r[20],
    reservationId: r[21],
  };
}

/** A page of items as the history answers them: the JSON of `items`, and where the next page starts when there is one. */
export interface ItemsPage {
  readonly itemsJson: string;
  /** The last item's keyset position when more rows follow it (the page read one row more than its limit). */
  readonly next: { readonly occurredAt: string; readonly rowId: number } | null;
}

/** A page of `limit` items from `limit + 1` rows (the extra row only says that more follow), as JSON. */
export function itemsPageOf(rows: readonly ItemColumns[], limit: number): ItemsPage {
  const items = rows.slice(0, limit).map(toItem);
  const last = items[items.length - 1];
  return { itemsJson: JSON.stringify(items), next: rows.length > limit && last ? { occurredAt: last.occurredAt, rowId: last.rowId } : null };
}
