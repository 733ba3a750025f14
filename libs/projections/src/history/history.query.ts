import { createHash } from 'node:crypto';
import { readAhead } from '@credit-ledger/event-store';
import { ReadModelStore } from '../read-model-store';
import { HOLD_KINDS } from './history.projector';
import { CsvPage, HistoryPageThreads } from './history-page-threads';
import { csvCells, CsvCells, CsvDbRow } from './csv-cells';
import { itemColumns, ItemColumns, toItem } from './history-items';
import { activeTablePlaceholder } from './active-tables';

/** How a query names a read model's table: its active version's name, or a placeholder a history thread resolves. */
type TableNames = (projector: string, base: string) => Promise<string>;
const placeholders: TableNames = async (projector, base) => activeTablePlaceholder(projector, base);

export type { CsvCells } from './csv-cells';

export const DEFAULT_HISTORY_PAGE = 50;
export const MAX_HISTORY_PAGE = 500;
/** Rows per query while streaming CSV: bounded memory whatever the export's size. */
export const CSV_PAGE_ROWS = 5_000;

export interface HistoryFilter {
  readonly accountId: string;
  /** Inclusive ISO instant (normalized). */
  readonly from?: string;
  /** Exclusive ISO instant (normalized). */
  readonly to?: string;
  readonly userId?: string;
  readonly feature?: string;
  readonly action?: string;
  readonly creditType?: string;
  /** A consumption and its refunds. */
  readonly consumptionId?: string;
  /** The consumptions that bought or accessed this datum. */
  readonly dataKey?: string;
  readonly includeRefunds: boolean;
  /** Rows of reservations' holds, releases and expiries (default false: the charge row is the captured consumption). */
  readonly includeHolds?: boolean;
}

export interface HistoryCursor {
  readonly occurredAt: string;
  readonly rowId: number;
}

export interface HistoryItem {
  readonly rowId: number;
  readonly position: number;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly kind: string;
  readonly creditType: string | null;
  readonly feature: string | null;
  readonly action: string | null;
  readonly description: string | null;
  readonly credits: number;
  readonly dataRequested: string | null;
  readonly userId: string | null;
  readonly consumptionId: string | null;
  readonly refundId: string | null;
  readonly grantId: string | null;
  readonly cycleId: string | null;
  readonly alreadyPurchased: boolean;
  /** The consumption's dataKey (the datum bought), null for other rows. */
  readonly dataKey: string | null;
  readonly eventId: string;
  readonly units: number | null;
  readonly rate: number | null;
  readonly pricedBy: string | null;
  readonly reservationId: string | null;
}

export class InvalidCursorError extends Error {}

/** Binds a cursor to the account and filters it was issued for: a digest of both travels inside it. */
function filterDigest(filter: HistoryFilter): string {
  const bound: unknown[] = [filter.accountId, filter.from, filter.to, filter.userId, filter.feature, filter.action, filter.creditType, filter.includeRefunds];
  // The newer filters join the digest only when given: cursors issued before them stay valid.
  if (filter.includeHolds === true) bound.push('includeHolds');
  if (filter.consumptionId !== undefined || filter.dataKey !== undefined) bound.push(filter.consumptionId ?? null, filter.dataKey ?? null);
  return createHash('sha256').update(JSON.stringify(bound)).digest('base64url').slice(0, 16);
}

export function encodeCursor(c: HistoryCursor, filter: HistoryFilter): string {
  return Buffer.from(JSON.stringify([c.occurredAt, c.rowId, filterDigest(filter)])).toString('base64url');
}

/** The position a cursor stands for; InvalidCursorError when it is malformed or was issued for another account or other filters. */
export function decodeCursor(text: string, filter: HistoryFilter): HistoryCursor {
  let decoded: unknown[];
  try {
    decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
  } catch {
    throw new InvalidCursorError('cursor is not one this API returned');
  }
  const [occurredAt, rowId, digest] = Array.isArray(decoded) ? decoded : [];
  if (typeof occurredAt !== 'string' || Number.isNaN(Date.parse(occurredAt)) || !Number.isSafeInteger(rowId) || (rowId as number) < 0) {
    throw new InvalidCursorError('cursor is not one this API returned');
  }
  if (digest !== filterDigest(filter)) throw new InvalidCursorError('cursor was issued for another account or other filters; start again without a cursor');
  return { occurredAt, rowId: rowId as number };
}

/** A page of the CSV export: the nine CSV columns, then row_id (the keyset cursor's tie-break). */
function csvPageSql(table: string, where: string): string {
  return (
    'SELECT occurred_at, feature, action, description, credits, data_requested, user_id, credit_type, units, row_id ' +
    `FROM ${table} WHERE ${where} ORDER BY occurred_at DESC, row_id DESC LIMIT ?`
  );
}

/**
 * History queries: newest first by business time, keyset pagination on (occurred_at, row_id) —
 * never OFFSET, so page 1,000 costs what page 1 costs. The same SQL runs on both stores (SQLite
 * caches a prepared statement per filter shape; PostgreSQL compares text in the "C" collation).
 */
export class HistoryQueries {
  /** Started at the first JSON page or CSV export (pageThreads). */
  private threads: HistoryPageThreads | undefined;

  constructor(private readonly store: ReadModelStore) {}

  /** The tables of the read models' active versions, looked up in the store. */
  private readonly activeTables: TableNames = (projector, base) => this.store.activeTable(projector, base);

  /** The history threads (JSON pages, CSV pages), started at the first call. */
  pageThreads(): HistoryPageThreads {
    return (this.threads ??= new HistoryPageThreads(this.store));
  }

  /** Stops the history threads, if any started (pages after this are formatted on the event loop). */
  async close(): Promise<void> {
    await this.threads?.close();
  }

  /** The WHERE clause (joined with AND) and its parameters for a filter and a keyset cursor. */
  private async conditions(
    filter: HistoryFilter,
    cursor?: HistoryCursor,
    tables: TableNames = this.activeTables,
  ): Promise<{ where: string; params: unknown[] }> {
    const where = ['account_id = ?'];
    const params: unknown[] = [filter.accountId];
    if (filter.from !== undefined) {
      where.push('occurred_at >= ?');
      params.push(filter.from);
    }
    if (filter.to !== undefined) {
      where.push('occurred_at < ?');
      params.push(filter.to);
    }
    if (filter.userId !== undefined) {
      where.push('user_id = ?');
      params.push(filter.userId);
    }
    if (filter.feature !== undefined) {
      where.push('feature = ?');
      params.push(filter.feature);
    }
    if (filter.action !== undefined) {
      where.push('action = ?');
      params.push(filter.action);
    }
    if (filter.creditType !== undefined) {
      where.push('credit_type = ?');
      params.push(filter.creditType);
    }
    if (filter.consumptionId !== undefined) {
      where.push('consumption_id = ?');
      params.push(filter.consumptionId);
    }
    if (filter.dataKey !== undefined) {
      where.push(`row_id IN (SELECT row_id FROM ${await tables('history_data_keys', 'history_data_keys')} WHERE account_id = ? AND data_key = ?)`);
      params.push(filter.accountId, filter.dataKey);
    }
    if (!filter.includeRefunds) where.push("kind != 'refund'");
    if (filter.includeHolds !== true) where.push(`kind NOT IN (${HOLD_KINDS.map((kind) => `'${kind}'`).join(', ')})`);
    if (cursor) {
      where.push('(occurred_at, row_id) < (?, ?)');
      params.push(cursor.occurredAt, cursor.rowId);
    }
    return { where: where.join(' AND '), params };
  }

  /** The page's query: the page first (by the history's indexes), then each row's dataKey by (account, row). */
  private async pageQuery(
    filter: HistoryFilter,
    rows: number,
    cursor?: HistoryCursor,
    tables: TableNames = this.activeTables,
  ): Promise<{ sql: string; params: unknown[] }> {
    const { where, params } = await this.conditions(filter, cursor, tables);
    const table = await tables('history', 'history');
    const keys = await tables('history_data_keys', 'history_data_keys');
    const sql = `SELECT ${itemColumns('page')}, k.data_key FROM (SELECT * FROM ${table} WHERE ${where} ORDER BY occurred_at DESC, row_id DESC LIMIT ?) AS page
      LEFT JOIN ${keys} AS k ON k.account_id = page.account_id AND k.row_id = page.row_id ORDER BY page.occurred_at DESC, page.row_id DESC`;
    return { sql, params: [...params, rows] };
  }

  async page(filter: HistoryFilter, limit: number, cursor?: HistoryCursor): Promise<{ items: HistoryItem[]; nextCursor: string | null }> {
    const { sql, params } = await this.pageQuery(filter, limit + 1, cursor);
    const rows = (await this.store.allArrays<ItemColumns>(sql, params)).map(toItem);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ occurredAt: last.occurredAt, rowId: last.rowId }, filter) : null };
  }

  /**
   * `page` as the JSON text the API answers, built off the event loop: on SQLite a history thread
   * reads the rows and writes the items' JSON, so neither rows nor items cross to the event loop.
   */
  async pageJson(filter: HistoryFilter, limit: number, cursor?: HistoryCursor): Promise<string> {
    const threads = this.pageThreads();
    // A thread that reads the page itself also looks up the tables' active versions, in the page's own read transaction.
    const { sql, params } = await this.pageQuery(filter, limit + 1, cursor, threads.readsActiveTables ? placeholders : this.activeTables);
    const page = await threads.itemsPage(sql, params, limit);
    const nextCursor = page.next === null ? null : encodeCursor(page.next, filter);
    return `{"items":${page.itemsJson},"nextCursor":${JSON.stringify(nextCursor)}}`;
  }

  /**
   * The CSV export's cells of every matching row, newest first, a bounded page at a time: arrays
   * in CSV_COLUMNS order, read as arrays (no row objects, no dataKey join the CSV does not show).
   */
  async *csvRows(filter: HistoryFilter, pageRows = CSV_PAGE_ROWS): AsyncGenerator<CsvCells[]> {
    const table = await this.store.activeTable('history', 'history');
    let cursor: HistoryCursor | undefined;
    for (;;) {
      const { where, params } = await this.conditions(filter, cursor);
      const rows = await this.store.allArrays<CsvDbRow>(csvPageSql(table, where), [...params, pageRows]);
      if (rows.length === 0) return;
      const last = rows[rows.length - 1];
      cursor = { occurredAt: last[0], rowId: Number(last[9]) };
      yield rows.map(csvCells);
      if (rows.length < pageRows) return;
    }
  }

  /**
   * The CSV export of every matching row, newest first, as CSV bytes a bounded page at a time (the
   * header row first, alone when nothing matches): `pages` reads and formats each page off the
   * event loop. Only the nine CSV columns are read (no dataKey join the CSV does not show).
   */
  async *csvBytes(filter: HistoryFilter, pageRows = CSV_PAGE_ROWS): AsyncGenerator<Uint8Array> {
    const pages = this.pageThreads();
    const table = await this.store.activeTable('history', 'history');
    const read = async (cursor: HistoryCursor | null): Promise<CsvPage> => {
      const { where, params } = await this.conditions(filter, cursor ?? undefined);
      return pages.csvPage(csvPageSql(table, where), [...params, pageRows], cursor === null);
    };
    // The next page is read and formatted while this one is sent (it starts after this one's last row).
    const next = (page: CsvPage) => (page.rows < pageRows || page.last === null ? undefined : page.last);
    let header = true;
    for await (const page of readAhead<HistoryCursor | null, CsvPage>(null, read, next)) {
      if (page.rows > 0 || header) yield page.bytes;
      header = false;
    }
  }

  /** Raw movement rows in [from, to) for the exact edges of the aggregate queries. */
  async movements(accountId: string, from: string, to: string, userId?: string): Promise<HistoryItem[]> {
    const table = await this.store.activeTable('history', 'history');
    const sql = `SELECT ${itemColumns()}, NULL AS data_key FROM ${table} WHERE account_id = ? AND occurred_at >= ? AND occurred_at < ? AND kind IN ('consumption', 'refund')${userId === undefined ? '' : ' AND user_id = ?'}`;
    const params: unknown[] = [accountId, from, to];
    if (userId !== undefined) params.push(userId);
    return (await this.store.allArrays<ItemColumns>(sql, params)).map(toItem);
  }
}
