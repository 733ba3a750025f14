import { join } from 'node:path';
import { BACKGROUND_THREAD_NICE, RequestThreads } from '@credit-ledger/ledger';
import { ReadModelStore } from '../read-model-store';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import { csvCells, CsvDbRow, csvPageText } from './csv-cells';
import { ItemColumns, ItemsPage, itemsPageOf } from './history-items';
import { resolveActiveTablesVia } from './active-tables';

/** What a history thread is started with. */
export interface HistoryThreadData {
  /** The read models' file (SQLite); none: rows come with each request. */
  readonly file?: string;
  /** The thread's nice value (none: the event loop's priority). */
  readonly nice?: number;
}

interface PageRequestBase {
  readonly id: number;
  readonly sql: string;
  readonly params: readonly unknown[];
  /** The page's rows when they were read on the event loop (PostgreSQL); else the thread runs `sql`. */
  readonly rows?: readonly unknown[][];
}

/** A page of the CSV export (after the header row when `header`), or a page of the JSON history (`limit` items of `limit + 1` rows). */
export type HistoryPageRequest =
  (PageRequestBase & { readonly kind: 'csv'; readonly header: boolean }) | (PageRequestBase & { readonly kind: 'items'; readonly limit: number });

/** A page of the export as CSV bytes, and the keyset position of its last row (null: the page is empty). */
export interface CsvPage {
  readonly bytes: Uint8Array;
  readonly rows: number;
  readonly last: { readonly occurredAt: string; readonly rowId: number } | null;
}

/** Threads per kind of page and query object: pages of concurrent requests are read and written side by side. */
export const HISTORY_PAGE_THREADS = 2;

export type HistoryPageReply = ((CsvPage | ItemsPage) & { readonly id: number }) | { readonly id: number; readonly failed: string };

/** A request without its id (which RequestThreads adds), kind by kind. */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;
type PageThreads = RequestThreads<Unnumbered<HistoryPageRequest>, HistoryPageReply>;

/**
 * The history's pages, read and written off the event loop. On SQLite a thread runs the page query
 * on its own read-only connection and writes the rows as CSV bytes (csv-stringify) or as the JSON
 * of the history items, so rows never cross to the event loop; on PostgreSQL the rows read here
 * are written in the thread (CSV) or here (JSON: copying the rows to a thread would cost more).
 * Two sets of threads, started at their first page: CSV exports at background priority, JSON pages
 * at the event loop's (they answer interactive requests). A failed thread is not retried: its
 * page, and every later one, is written here instead.
 */
export class HistoryPageThreads {
  private csvThreads: PageThreads | undefined;
  private itemThreads: PageThreads | undefined;
  private readonly file: string | undefined;

  constructor(
    private readonly store: ReadModelStore,
    private readonly threadsPerKind = HISTORY_PAGE_THREADS,
  ) {
    // An in-memory database has no file another connection could open.
    this.file = store instanceof SqliteReadModelStore && !store.db.memory ? store.db.name : undefined;
  }

  private start(nice: number | undefined): PageThreads {
    return new RequestThreads(join(__dirname, 'history-pages.thread'), { file: this.file, nice } satisfies HistoryThreadData, this.threadsPerKind);
  }

  /** The page `sql` (with `params`) selects, as CSV bytes (after the header row when `header`). */
  async csvPage(sql: string, params: readonly unknown[], header: boolean): Promise<CsvPage> {
    const threads = (this.csvThreads ??= this.start(BACKGROUND_THREAD_NICE));
    const rows = this.file === undefined ? await this.store.allArrays<CsvDbRow>(sql, params) : undefined;
    const reply = threads.broken ? undefined : await threads.request({ kind: 'csv', sql, params, header, rows });
    const formatted = reply === undefined || 'failed' in reply || !('bytes' in reply) ? undefined : reply;
    return formatted ?? this.csvHere(rows ?? (await this.store.allArrays<CsvDbRow>(sql, params)), header);
  }

  /** Whether the items' threads read pages themselves, and so resolve `activeTablePlaceholder`s in their SQL (SQLite in a file). */
  get readsActiveTables(): boolean {
    return this.file !== undefined;
  }

  /**
   * The `limit` items of the `limit + 1` rows `sql` selects (ITEM_COLUMNS and the dataKey), as JSON.
   * Its tables may be named by `activeTablePlaceholder` (the thread resolves them in the page's read
   * transaction; a page read here instead resolves them first).
   */
  async itemsPage(sql: string, params: readonly unknown[], limit: number): Promise<ItemsPage> {
    const here = async () => {
      const resolved = await resolveActiveTablesVia(sql, (projector, base) => this.store.activeTable(projector, base));
      return itemsPageOf(await this.store.allArrays<ItemColumns>(resolved, params), limit);
    };
    if (this.file === undefined) return here();
    const threads = (this.itemThreads ??= this.start(undefined));
    const reply = threads.broken ? undefined : await threads.request({ kind: 'items', sql, params, limit });
    if (reply !== undefined && 'itemsJson' in reply) return reply;
    return here();
  }

  /** Whether the CSV threads failed or were closed: CSV pages are then written on the event loop. */
  get broken(): boolean {
    return this.csvThreads?.broken ?? false;
  }

  /** Ends the threads (waits until they have exited); later pages are written on the event loop. */
  async close(): Promise<void> {
    await Promise.all([this.csvThreads?.close(), this.itemThreads?.close()]);
  }

  private csvHere(rows: CsvDbRow[], header: boolean): CsvPage {
    const lastRow = rows[rows.length - 1];
    const last = lastRow === undefined ? null : { occurredAt: lastRow[0], rowId: Number(lastRow[9]) };
    return { bytes: Buffer.from(csvPageText(rows.map(csvCells), header)), rows: rows.length, last };
  }
}
