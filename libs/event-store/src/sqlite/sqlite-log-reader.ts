import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { catchUpSubscription } from '../catch-up-subscription';
import { decodeRows } from '../decode-rows';
import { BatchHandler, clampPageSize, EventStore, ReadAllOptions, RecordedEvent, SubscribeOptions, Subscription } from '../event-store.port';
import { commitPast, FileChangeSignal } from './file-change-signal';
import { isTransientSqliteError, SQLITE_BUSY_TIMEOUT_MS, SUBSCRIPTION_POLL_INTERVAL_MS } from './sqlite-event-store';
import { SQLITE_READ_LOG_WITHOUT_CHAIN_SQL, UnchainedEventRow, unchainedToStored } from './sqlite-log-rows';

/** What a follower of the global log needs from a store: pages of it, its head, a subscription. */
export type LogReader = Pick<EventStore, 'readAll' | 'headPosition' | 'subscribeToAll' | 'isTransientError'>;

/**
 * Reads the global log of a SQLite event store file on a read-only connection of its own, without
 * the hash chains: for a thread that follows the log (the read models) while the store's own
 * process appends. That process passes its commits on (`notifyCommitted`), which wakes
 * subscribers at once; a change of the file (another process's commit) and a poll back it up.
 */
export class SqliteLogReader implements LogReader {
  private readonly db: Database.Database;
  private readonly readPage: Database.Statement;
  private readonly head: Database.Statement;
  private readonly committed = new EventEmitter();
  private readonly fileChanged: FileChangeSignal;
  private closed = false;

  private readonly pollIntervalMs: number;

  constructor(
    file: string,
    options: {
      /** The safety net's interval (default SUBSCRIPTION_POLL_INTERVAL_MS). */
      readonly pollIntervalMs?: number;
      /** Listen for changes of the file (other processes' commits); default true. */
      readonly watchFile?: boolean;
    } = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? SUBSCRIPTION_POLL_INTERVAL_MS;
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    this.readPage = this.db.prepare(SQLITE_READ_LOG_WITHOUT_CHAIN_SQL).raw(true);
    this.head = this.db.prepare('SELECT COALESCE(MAX(position), 0) FROM events').pluck();
    this.fileChanged = new FileChangeSignal(file);
    if (options.watchFile === false) this.fileChanged.close(true);
    this.committed.setMaxListeners(0);
  }

  /** The store committed up to `head`: subscribers waiting for later events read again. */
  notifyCommitted(head: number): void {
    this.committed.emit('committed', head);
  }

  /** A page of the log after `options.after`; never with the hash chains (whatever `withoutChain` says). */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const rows = this.readPage.all(options.after ?? 0, clampPageSize(options.limit)) as UnchainedEventRow[];
    return decodeRows(rows.map(unchainedToStored));
  }

  async headPosition(): Promise<number> {
    return this.head.get() as number;
  }

  isTransientError(error: unknown): boolean {
    return isTransientSqliteError(error);
  }

  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): Subscription {
    const signals = {
      committed: this.committed,
      fileChanged: this.fileChanged,
      head: () => this.head.get() as number,
      closed: () => this.closed,
      pollIntervalMs: this.pollIntervalMs,
    };
    return catchUpSubscription(
      (after, limit) => this.readAll({ after, limit }),
      { waitForEventsAfter: (position, stopped) => commitPast(position, stopped, signals) },
      options,
      handler,
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fileChanged.close();
    this.db.close();
  }
}
