import { join } from 'node:path';
import { RequestThreads } from '@credit-ledger/ledger';
import { ReadModelStore } from '../read-model-store';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import { csvCells, CsvDbRow, csvPageText } from './csv-cells';

export interface CsvPageRequest {
  readonly id: number;
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly header: boolean;
  /** The page's rows when they were read on the event loop (PostgreSQL); else the thread runs `sql`. */
  readonly rows?: CsvDbRow[];
}

/** A page of the export as CSV bytes, and the keyset position of its last row (null: the page is empty). */
export interface CsvPage {
  readonly bytes: Uint8Array;
  readonly rows: number;
  readonly last: { readonly occurredAt: string; readonly rowId: number } | null;
}

/** CSV threads per query object: pages of concurrent exports are read and formatted side by side. */
export const CSV_PAGE_THREADS = 2;

export type CsvPageReply = (CsvPage & { readonly id: number }) | { readonly id: number; readonly failed: string };

/**
 * The CSV export's pages, read and formatted off the event loop: on SQLite a thread runs the page
 * query on its own read-only connection and formats the rows (csv-stringify) to bytes, so rows
 * never cross to the event loop; on PostgreSQL the rows read here are formatted in the thread. A
 * failed thread is not retried: its page, and every later one, is formatted here instead.
 */
export class CsvPageThreads {
  private readonly threads: RequestThreads<Omit<CsvPageRequest, 'id'>, CsvPageReply>;
  private readonly file: string | undefined;

  constructor(
    private readonly store: ReadModelStore,
    threads = CSV_PAGE_THREADS,
  ) {
    // An in-memory database has no file another connection could open.
    this.file = store instanceof SqliteReadModelStore && !store.db.memory ? store.db.name : undefined;
    this.threads = new RequestThreads(join(__dirname, 'csv-pages.thread'), { file: this.file }, threads);
  }

  /** The page `sql` (with `params`) selects, as CSV bytes (after the header row when `header`). */
  async page(sql: string, params: readonly unknown[], header: boolean): Promise<CsvPage> {
    const rows = this.file === undefined ? await this.store.allArrays<CsvDbRow>(sql, params) : undefined;
    const reply = this.threads.broken ? undefined : await this.threads.request({ sql, params, header, rows });
    const formatted = reply === undefined || 'failed' in reply ? undefined : reply;
    return formatted ?? this.here(rows ?? (await this.store.allArrays<CsvDbRow>(sql, params)), header);
  }

  /** Whether the threads failed or were closed: pages are then formatted on the event loop. */
  get broken(): boolean {
    return this.threads.broken;
  }

  /** Ends the threads (waits until they have exited); later pages are formatted on the event loop. */
  close(): Promise<void> {
    return this.threads.close();
  }

  private here(rows: CsvDbRow[], header: boolean): CsvPage {
    const lastRow = rows[rows.length - 1];
    const last = lastRow === undefined ? null : { occurredAt: lastRow[0], rowId: Number(lastRow[9]) };
    return { bytes: Buffer.from(csvPageText(rows.map(csvCells), header)), rows: rows.length, last };
  }
}
