import Database from 'better-sqlite3';
import { StoredRow, decodeRows } from '../decode-rows';
import { RecordedEvent } from '../event-store.port';

/** How long a read waits for a lock (a checkpoint restarting the WAL) before it fails. */
const STREAM_READER_BUSY_TIMEOUT_MS = 5_000;

type StreamRow = [position: number, streamId: string, revision: number, eventId: string, type: string, data: string, metadata: string];

/**
 * A synchronous, read-only reader of one SQLite event store's streams, for a worker thread that
 * reads and folds an account's events itself (so neither the rows nor their decoding pass through
 * the event loop). Its own connection: WAL readers see whole commits and never block the writer.
 * The hash-chain columns are left out: a fold does not need them.
 */
export class SqliteStreamReader {
  private readonly db: Database.Database;
  private readonly page: Database.Statement;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma(`busy_timeout = ${STREAM_READER_BUSY_TIMEOUT_MS}`);
    this.page = this.db
      .prepare(
        'SELECT position, stream_id, revision, event_id, type, data, metadata FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?',
      )
      .raw(true);
  }

  /** Up to `limit` events of `streamId` from `fromRevision` on, in revision order, decoded as `EventStore.readStream` decodes them. */
  readStream(streamId: string, fromRevision: number, limit: number): RecordedEvent[] {
    const rows = this.page.all(streamId, fromRevision, limit) as StreamRow[];
    const stored: StoredRow[] = rows.map((row) => ({
      position: row[0],
      streamId: row[1],
      revision: row[2],
      eventId: row[3],
      type: row[4],
      data: row[5],
      metadata: row[6],
    }));
    return decodeRows(stored);
  }

  close(): void {
    this.db.close();
  }
}
