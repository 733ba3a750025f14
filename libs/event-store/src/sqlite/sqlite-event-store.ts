import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { catchUpSubscription } from '../catch-up-subscription';
import {
  AppendResult,
  BatchHandler,
  DuplicateEventIdError,
  EventStore,
  EventToAppend,
  NO_STREAM,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  WrongExpectedRevisionError,
  clampPageSize,
  validateAppend,
} from '../event-store.port';

/** Appends that share one transaction and one fsync at most. */
export const MAX_APPENDS_PER_GROUP_COMMIT = 2_000;
/** Events per group commit at most (a batch larger than this still commits alone). */
export const MAX_EVENTS_PER_GROUP_COMMIT = 20_000;
/** Fallback poll for subscribers when another process writes the file. */
export const SUBSCRIPTION_POLL_INTERVAL_MS = 250;
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;
export const SQLITE_FILE_NAME = 'ledger.sqlite';

interface PendingAppend {
  readonly streamId: string;
  readonly expectedRevision: number;
  readonly events: readonly EventToAppend[];
  readonly rows: readonly { eventId: string; type: string; data: string; metadata: string }[];
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

type AppendOutcome = { ok: true; value: AppendResult } | { ok: false; error: unknown };

interface EventRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

export interface SqliteEventStoreStats {
  readonly appends: number;
  readonly commits: number;
  readonly events: number;
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     position   INTEGER PRIMARY KEY AUTOINCREMENT,
     stream_id  TEXT    NOT NULL,
     revision   INTEGER NOT NULL,
     event_id   TEXT    NOT NULL UNIQUE,
     type       TEXT    NOT NULL,
     data       TEXT    NOT NULL,
     metadata   TEXT    NOT NULL
   );
   CREATE UNIQUE INDEX events_stream_revision ON events (stream_id, revision);
   CREATE INDEX events_stream_position ON events (stream_id, position);`,
];

/**
 * Embedded event store on one SQLite file (WAL, synchronous=FULL). Appends arriving in the same
 * turn of the event loop are group-committed: one transaction, one fsync, each append still
 * atomic on its own (a savepoint each), and nobody is answered before the commit is on disk.
 */
export class SqliteEventStore implements EventStore {
  readonly db: Database.Database;
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly committed = new EventEmitter();
  private counters = { appends: 0, commits: 0, events: 0 };

  private readonly stmt: {
    insert: Database.Statement;
    lastRevision: Database.Statement;
    byEventId: Database.Statement;
    readStream: Database.Statement;
    readStreamAfter: Database.Statement;
    readAll: Database.Statement;
    head: Database.Statement;
  };
  private readonly appendOne: (a: PendingAppend) => AppendResult;
  private readonly commitGroup: Database.Transaction<(batch: readonly PendingAppend[], out: AppendOutcome[]) => void>;

  static open(dataDir: string): SqliteEventStore {
    mkdirSync(dataDir, { recursive: true });
    return new SqliteEventStore(new Database(join(dataDir, SQLITE_FILE_NAME)));
  }

  constructor(db: Database.Database) {
    this.db = db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL'); // fsync the WAL at every commit: an ack means on disk
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    migrate(db, 'event_store', MIGRATIONS);
    this.committed.setMaxListeners(0);
    this.stmt = {
      insert: db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)'),
      lastRevision: db.prepare('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1').pluck(),
      byEventId: db.prepare('SELECT stream_id, revision, position FROM events WHERE event_id = ?'),
      readStream: db.prepare('SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?'),
      readStreamAfter: db.prepare('SELECT * FROM events WHERE stream_id = ? AND revision >= ? AND position > ? ORDER BY position LIMIT ?'),
      readAll: db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      head: db.prepare('SELECT COALESCE(MAX(position), 0) FROM events').pluck(),
    };
    this.appendOne = db.transaction((a: PendingAppend) => this.appendInSavepoint(a));
    this.commitGroup = db.transaction((batch: readonly PendingAppend[], out: AppendOutcome[]) => {
      for (const a of batch) {
        try {
          out.push({ ok: true, value: this.appendOne(a) });
        } catch (error) {
          out.push({ ok: false, error });
        }
      }
    });
  }

  stats(): SqliteEventStoreStats {
    return { ...this.counters };
  }

  append(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    try {
      validateAppend(streamId, expectedRevision, events);
    } catch (e) {
      return Promise.reject(e);
    }
    // Serialize before queueing, so a payload that cannot be stored fails alone.
    const rows = events.map((e) => ({
      eventId: e.eventId,
      type: e.type,
      data: JSON.stringify(e.data),
      metadata: JSON.stringify(e.metadata),
    }));
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, expectedRevision, events, rows, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private takeGroup(): PendingAppend[] {
    let events = 0;
    let n = 0;
    while (n < this.queue.length && n < MAX_APPENDS_PER_GROUP_COMMIT) {
      events += this.queue[n].rows.length;
      if (n > 0 && events > MAX_EVENTS_PER_GROUP_COMMIT) break;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0) return;
    const group = this.takeGroup();
    if (this.queue.length > 0) this.scheduleFlush();
    const out: AppendOutcome[] = [];
    try {
      this.commitGroup.immediate(group, out);
    } catch (error) {
      // The commit itself failed (disk full, I/O error, lock timeout): nothing of the group is stored.
      for (const a of group) a.reject(error);
      return;
    }
    this.counters.commits++;
    let head = 0;
    group.forEach((a, i) => {
      const r = out[i];
      if (r.ok) {
        this.counters.appends++;
        this.counters.events += a.rows.length;
        head = Math.max(head, r.value.positions[r.value.positions.length - 1]);
        a.resolve(r.value);
      } else {
        a.reject(r.error);
      }
    });
    if (head > 0) this.committed.emit('committed', head);
  }

  private appendInSavepoint(a: PendingAppend): AppendResult {
    const first = this.stmt.byEventId.get(a.rows[0].eventId) as { stream_id: string; revision: number; position: number } | undefined;
    if (first) return this.replayedAppend(a, first);
    const current = (this.stmt.lastRevision.get(a.streamId) as number | undefined) ?? NO_STREAM;
    if (current !== a.expectedRevision) throw new WrongExpectedRevisionError(a.streamId, a.expectedRevision, current);
    const positions: number[] = [];
    let revision = current;
    for (const row of a.rows) {
      revision++;
      try {
        const info = this.stmt.insert.run(a.streamId, revision, row.eventId, row.type, row.data, row.metadata);
        positions.push(Number(info.lastInsertRowid));
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DuplicateEventIdError(row.eventId);
        throw e;
      }
    }
    return { nextExpectedRevision: revision, positions };
  }

  /** The first event id is stored: a retry of the very same append succeeds with its first result. */
  private replayedAppend(a: PendingAppend, first: { stream_id: string; revision: number; position: number }): AppendResult {
    const positions: number[] = [];
    for (let i = 0; i < a.rows.length; i++) {
      const row = this.stmt.byEventId.get(a.rows[i].eventId) as { stream_id: string; revision: number; position: number } | undefined;
      if (!row || row.stream_id !== a.streamId || row.revision !== first.revision + i) {
        throw new DuplicateEventIdError(a.rows[i].eventId);
      }
      positions.push(row.position);
    }
    return { nextExpectedRevision: first.revision + a.rows.length - 1, positions };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const limit = clampPageSize(options.limit);
    const from = options.fromRevision ?? 0;
    const rows = (
      options.afterPosition === undefined
        ? this.stmt.readStream.all(streamId, from, limit)
        : this.stmt.readStreamAfter.all(streamId, from, options.afterPosition, limit)
    ) as EventRow[];
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return (this.stmt.readAll.all(options.after ?? 0, clampPageSize(options.limit)) as EventRow[]).map(toRecorded);
  }

  async headPosition(): Promise<number> {
    return this.stmt.head.get() as number;
  }

  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): Subscription {
    return catchUpSubscription(
      (after, limit) => this.readAll({ after, limit }),
      {
        waitForEventsAfter: (position, stopped) =>
          new Promise<void>((resolve) => {
            const finish = () => {
              clearTimeout(timer);
              this.committed.off('committed', onCommit);
              resolve();
            };
            const onCommit = (head: number) => head > position && finish();
            const timer = setTimeout(finish, SUBSCRIPTION_POLL_INTERVAL_MS);
            this.committed.on('committed', onCommit);
            void stopped.then(finish);
          }),
      },
      options,
      handler,
    );
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.queue.length > 0) this.flush();
    this.closed = true;
    this.db.close();
  }
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    streamId: row.stream_id,
    revision: row.revision,
    position: row.position,
    eventId: row.event_id,
    type: row.type,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
  };
}

/** Applies numbered migrations once, in order, recording them in `schema_migrations`. */
export function migrate(db: Database.Database, component: string, migrations: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version))');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations WHERE component = ?').pluck().all(component) as number[]),
  );
  migrations.forEach((sql, i) => {
    const version = i + 1;
    if (applied.has(version)) return;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)').run(component, version, new Date().toISOString());
    }).immediate();
  });
}
