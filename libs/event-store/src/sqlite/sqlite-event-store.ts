import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { catchUpSubscription } from '../catch-up-subscription';
import {
  AppendResult,
  BatchHandler,
  EventStore,
  EventToAppend,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  WrongExpectedRevisionError,
  clampPageSize,
  validateAppend,
  StreamLength,
} from '../event-store.port';
import { StoredRow, decodeRows } from '../decode-rows';
import { canonicalJson, chainMetadataFields } from '../chain/event-hash';
import { ChainHeadRecord, HashChainedStore } from '../chain/verify-chain';
import { checkpointerThreadSource, writerThreadSource } from './sqlite-writer-thread';
import { SQLITE_CHAIN_MIGRATION_COMPONENT, SQLITE_CHAIN_MIGRATIONS, fillSqliteHashChain } from './sqlite-hash-chain';
import { EventStoreObserver, observedAppend } from '../store-observer';
import { SqliteReaderPool } from './sqlite-reader-pool';
import { commitPast, FileChangeSignal } from './file-change-signal';
import { SQLITE_READ_LOG_WITHOUT_CHAIN_SQL, UnchainedEventRow, unchainedToStored } from './sqlite-log-rows';

/** Appends sent to the writer in one message at most: more wait for the end of the event-loop turn, fewer keep the writer fed meanwhile. */
export const APPENDS_PER_WRITER_MESSAGE = 8;
/** Appends that share one transaction and one fsync at most. */
export const MAX_APPENDS_PER_GROUP_COMMIT = 2_000;
/** Events per group commit at most (a single larger append still commits alone). */
export const MAX_EVENTS_PER_GROUP_COMMIT = 20_000;
/** Streams whose last revision and hash the writer remembers between commits (oldest dropped first). */
export const MAX_CACHED_STREAM_HEADS = 50_000;
/** Safety-net poll for subscribers when another process writes the file (a change of its WAL wakes them first). */
export const SUBSCRIPTION_POLL_INTERVAL_MS = 250;
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** WAL pages before the writer checkpoints by itself (4 KiB pages: ~200 MiB): a backstop only. */
export const WAL_AUTOCHECKPOINT_PAGES = 50_000;
/** How often the checkpointer thread copies the WAL into the database file. */
export const CHECKPOINT_INTERVAL_MS = 200;
export const SQLITE_FILE_NAME = 'ledger.sqlite';

interface EventRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  /** A Buffer read on the event loop; lowercase hex from a reader thread. */
  hash: Buffer | string | null;
  previous_account_hash: Buffer | string | null;
  previous_hash: Buffer | string | null;
}

type WriterOutcome =
  | { id: number; ok: true; nextExpectedRevision: number; positions: number[] }
  | { id: number; ok: false; error: Record<string, unknown> & { name: string; message: string } };

/** One append as the writer thread receives it (rows serialized here). */
interface WriterAppend {
  readonly type: 'append';
  readonly id: number;
  readonly streamId: string;
  readonly expectedRevision: number;
  readonly rows: [string, string, string, string, string, string][];
}

type WriterMessage =
  { type: 'ready'; journalMode: string; synchronous: number } | { type: 'committed'; results: WriterOutcome[]; commits: number } | { type: 'closed' };

export interface SqliteEventStoreStats {
  readonly appends: number;
  readonly commits: number;
  readonly events: number;
}

export interface SqliteEventStoreOptions {
  /** Test-only: allow `injectCommitFailures` (never set by the server, CLI or worker). */
  readonly faultInjection?: boolean;
  /**
   * Bench only: write no hashes (the chains are broken from there on). Measures what the hash
   * chains cost on the command path; never set in production.
   */
  readonly disableHashChainForBenchmark?: boolean;
  /** Reader threads for stream and log reads (default SQLITE_READER_THREADS; 0 reads on the event loop). */
  readonly readerThreads?: number;
}

/** Reads of at most this many events stay on the event loop: a thread hop would cost more than the read. */
export const SQLITE_ON_LOOP_READ_MAX_EVENTS = 16;

export interface SqliteDurability {
  readonly journalMode: string;
  /** 2 = FULL: the WAL is fsynced at every commit. */
  readonly synchronous: number;
}

/**
 * Positions are the table's rowid (INTEGER PRIMARY KEY). Rows are never deleted, so a new rowid
 * is always the largest so far: strictly increasing in commit order, never reused. There is no
 * global index on event_id: a retried append is recognised at the revisions it would occupy
 * (see the writer), which keeps every commit to one random index page per stream touched.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     position   INTEGER PRIMARY KEY,
     stream_id  TEXT    NOT NULL,
     revision   INTEGER NOT NULL,
     event_id   TEXT    NOT NULL,
     type       TEXT    NOT NULL,
     data       TEXT    NOT NULL,
     metadata   TEXT    NOT NULL
   );
   CREATE UNIQUE INDEX events_stream_revision ON events (stream_id, revision);`,
];

/**
 * Embedded event store on one SQLite file (WAL, synchronous=FULL). A writer thread group-commits
 * the appends that queue up while it is busy: one transaction and one fsync for the group, each
 * append checked and applied on its own (all or nothing), and no append is acknowledged before
 * its commit is on disk. Reads use this thread's own connection (WAL readers never block the writer).
 */
export class SqliteEventStore implements EventStore, HashChainedStore {
  private readonly db: Database.Database;
  private readonly writer: Worker;
  private readonly checkpointer: Worker;
  private readonly ready: Promise<SqliteDurability>;
  private readonly pending = new Map<number, { resolve: (result: AppendResult) => void; reject: (error: unknown) => void; events: number }>();
  private nextId = 1;
  /** Appends not yet sent to the writer (see `post`). */
  private outbox: WriterAppend[] = [];
  /** Appends sent to the writer and not answered yet: 0 means the writer is idle. */
  private appendsAtWriter = 0;
  private closed = false;
  private writerFailure: Error | undefined;
  private writerClosed: (() => void) | undefined;
  private readonly committed = new EventEmitter();
  /** Commits of other processes (a dispatcher or relay in its own process): the WAL changed. */
  private readonly fileChanged: FileChangeSignal;
  private observer: EventStoreObserver | undefined;
  private counters = { appends: 0, commits: 0, events: 0 };
  /** Events whose hashes this open filled in (a store written before the chains). */
  readonly hashChainFill: { filled: number };
  private readonly stmt: {
    readStream: Database.Statement;
    readStreamAfter: Database.Statement;
    readAll: Database.Statement;
    readAllWithoutChain: Database.Statement;
    head: Database.Statement;
    ping: Database.Statement;
    longestStreams: Database.Statement;
  };

  static open(dataDir: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    mkdirSync(dataDir, { recursive: true });
    return new SqliteEventStore(join(dataDir, SQLITE_FILE_NAME), options);
  }

  private readonly faultInjection: boolean;
  /** Longer reads (an account's stream, a page of the log) run here, off the event loop. */
  private readonly readers: SqliteReaderPool | undefined;

  private constructor(
    /** The store file: a worker thread may open it read-only to read streams itself (SqliteStreamReader). */
    readonly file: string,
    options: SqliteEventStoreOptions,
  ) {
    this.faultInjection = options.faultInjection === true;
    this.fileChanged = new FileChangeSignal(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    migrate(this.db, 'event_store', MIGRATIONS);
    // The hash chains: columns, the head record, then the hashes of events stored before them
    // (resumable: each batch commits, the next run goes on from the first event without a hash).
    migrate(this.db, SQLITE_CHAIN_MIGRATION_COMPONENT, SQLITE_CHAIN_MIGRATIONS);
    this.hashChainFill = fillSqliteHashChain(this.db);
    this.stmt = {
      readStream: this.db.prepare(`SELECT ${STORED_EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?`),
      // Index-only filter: the (stream_id, revision) index entries carry the rowid, which is the position.
      readStreamAfter: this.db.prepare(
        `SELECT ${STORED_EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? AND position > ? ORDER BY revision LIMIT ?`,
      ),
      readAll: this.db.prepare(`SELECT ${STORED_EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`),
      readAllWithoutChain: this.db.prepare(SQLITE_READ_LOG_WITHOUT_CHAIN_SQL).raw(true),
      head: this.db.prepare('SELECT COALESCE(MAX(position), 0) FROM events').pluck(),
      ping: this.db.prepare('SELECT 1'),
      // The (stream_id, revision) index alone: one pass, no row read.
      longestStreams: this.db.prepare(
        'SELECT stream_id, MAX(revision) + 1 AS events FROM events WHERE stream_id >= ? AND stream_id < ? GROUP BY stream_id ORDER BY events DESC LIMIT ?',
      ),
    };
    this.committed.setMaxListeners(0);
    this.readers = options.readerThreads === 0 ? undefined : new SqliteReaderPool(file, SQLITE_BUSY_TIMEOUT_MS, options.readerThreads);

    this.writer = new Worker(writerThreadSource(), {
      eval: true,
      workerData: {
        file,
        driverPath: require.resolve('better-sqlite3'),
        busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS,
        walAutocheckpointPages: WAL_AUTOCHECKPOINT_PAGES,
        maxAppendsPerCommit: MAX_APPENDS_PER_GROUP_COMMIT,
        maxEventsPerCommit: MAX_EVENTS_PER_GROUP_COMMIT,
        maxCachedStreamHeads: MAX_CACHED_STREAM_HEADS,
        hashing: !options.disableHashChainForBenchmark,
        faultInjection: this.faultInjection,
      },
    });
    this.checkpointer = new Worker(checkpointerThreadSource(), {
      eval: true,
      workerData: { file, driverPath: require.resolve('better-sqlite3'), busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    this.checkpointer.on('error', () => undefined); // checkpoints are an optimisation; the writer's autocheckpoint backs them up
    let markReady!: (durability: SqliteDurability) => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    this.ready.catch(() => undefined);
    this.writer.on('message', (message: WriterMessage) => {
      if (message.type === 'ready') markReady({ journalMode: message.journalMode, synchronous: message.synchronous });
      else if (message.type === 'committed') this.onCommitted(message.results, message.commits);
      else this.writerClosed?.();
    });
    this.writer.on('error', (error) => this.failWriter(error));
    this.writer.on('exit', (code) => {
      if (!this.closed) this.failWriter(new Error(`SQLite writer thread exited (code ${code})`));
      this.writerClosed?.();
    });
  }

  private failWriter(error: Error): void {
    this.writerFailure = error;
    this.appendsAtWriter = 0;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  private onCommitted(results: WriterOutcome[], commits: number): void {
    this.counters.commits += commits;
    this.reportGroups(results, commits);
    this.appendsAtWriter = Math.max(0, this.appendsAtWriter - results.length);
    let head = 0;
    for (const outcome of results) {
      const waiting = this.pending.get(outcome.id);
      if (!waiting) continue;
      this.pending.delete(outcome.id);
      if (outcome.ok) {
        this.counters.appends++;
        this.counters.events += waiting.events;
        head = Math.max(head, outcome.positions[outcome.positions.length - 1]);
        waiting.resolve({ nextExpectedRevision: outcome.nextExpectedRevision, positions: outcome.positions });
      } else {
        waiting.reject(toError(outcome.error));
      }
    }
    if (head > 0) this.committed.emit('committed', head);
  }

  /** The writer reports several commits in one message at most rarely: their appends are shared out evenly. */
  private reportGroups(results: readonly WriterOutcome[], commits: number): void {
    if (!this.observer?.groupCommitted || commits < 1) return;
    const events = results.reduce((sum, outcome) => sum + (this.pending.get(outcome.id)?.events ?? 0), 0);
    for (let commit = 0; commit < commits; commit++) {
      this.observer.groupCommitted({ appends: Math.round(results.length / commits), events: Math.round(events / commits) });
    }
  }

  observe(observer: EventStoreObserver): void {
    this.observer = observer;
  }

  /**
   * Calls `listener` with the log's new head after each commit of this store's writer (not of
   * another process's); until the returned function is called. For a reader of the log in another
   * thread, which hears of commits sooner this way than from the file.
   */
  listenToCommits(listener: (head: number) => void): () => void {
    this.committed.on('committed', listener);
    return () => this.committed.off('committed', listener);
  }

  /**
   * Test-only: the writer's next `count` group commits fail as a disk error would, after their rows
   * were written (the transaction rolls back; every append of the group is refused). Only a store
   * opened with `faultInjection: true` accepts it; the server never opens one that way.
   */
  injectCommitFailures(count: number): void {
    if (!this.faultInjection) throw new Error('commit failures can only be injected into a store opened with faultInjection');
    this.flushOutbox();
    this.writer.postMessage({ type: 'inject-commit-failures', count });
  }

  /** What the writer connection runs with (journal mode, synchronous level). */
  durability(): Promise<SqliteDurability> {
    return this.ready;
  }

  stats(): SqliteEventStoreStats {
    return { ...this.counters };
  }

  append(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    if (this.writerFailure) return Promise.reject(this.writerFailure);
    try {
      validateAppend(streamId, expectedRevision, events);
    } catch (error) {
      return Promise.reject(error);
    }
    // Serialized here, so a payload that cannot be stored fails alone and the writer only writes.
    // Canonical JSON (sorted keys): the stored text is exactly what the event's hash covers.
    let rows: [string, string, string, string, string, string][];
    try {
      rows = events.map((event) => {
        const { recordedAt, schemaVersion } = chainMetadataFields(event.metadata);
        return [event.eventId, event.type, canonicalJson(event.data), canonicalJson(event.metadata), recordedAt, schemaVersion];
      });
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.nextId++;
    return observedAppend(
      this.observer,
      rows.length,
      () =>
        new Promise<AppendResult>((resolve, reject) => {
          this.pending.set(id, { resolve, reject, events: rows.length });
          this.post({ type: 'append', id, streamId, expectedRevision, rows });
        }),
    );
  }

  /**
   * Queues an append for the writer; a message costs a structured clone and a wake-up of the
   * writer whatever its size. An idle writer gets the appends of this callback as soon as its
   * microtasks have run (the commands answered by one commit send their next appends in the same
   * callback). A writer busy with a commit gets them once the event loop has read everything
   * ready (every request that arrived meanwhile, in one message): its next commit starts after
   * the current one's fsync anyway.
   */
  private post(append: WriterAppend): void {
    this.outbox.push(append);
    if (this.outbox.length >= APPENDS_PER_WRITER_MESSAGE) this.flushOutbox();
    else if (this.outbox.length === 1) {
      if (this.appendsAtWriter === 0) process.nextTick(this.flushOutbox);
      else setImmediate(this.flushOutbox);
    }
  }

  /** Sends the queued appends (before any other message to the writer, so that order is kept). */
  private readonly flushOutbox = (): void => {
    if (this.outbox.length === 0) return;
    const appends = this.outbox;
    this.outbox = [];
    this.appendsAtWriter += appends.length;
    this.writer.postMessage({ type: 'appends', appends });
  };

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const limit = clampPageSize(options.limit);
    const from = options.fromRevision ?? 0;
    const [statement, params] =
      options.afterPosition === undefined
        ? [this.stmt.readStream, [streamId, from, limit]]
        : [this.stmt.readStreamAfter, [streamId, from, options.afterPosition, limit]];
    return decodeRows((await this.rowsOf(statement, params, limit)).map(toStored));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = clampPageSize(options.limit);
    const params = [options.after ?? 0, limit];
    if (options.withoutChain) return decodeRows((await this.arraysOf(this.stmt.readAllWithoutChain, params, limit)).map(unchainedToStored));
    return decodeRows((await this.rowsOf(this.stmt.readAll, params, limit)).map(toStored));
  }

  /** Like `rowsOf`, each row an array in the SELECT's column order (`statement` is raw): no per-row keys to build and copy between threads. */
  private arraysOf(statement: Database.Statement, params: unknown[], limit: number): Promise<UnchainedEventRow[]> | UnchainedEventRow[] {
    if (!this.readers || limit <= SQLITE_ON_LOOP_READ_MAX_EVENTS || this.closed) return statement.all(...params) as UnchainedEventRow[];
    return this.readers.allArrays<UnchainedEventRow>(statement.source, params);
  }

  /** A short read on the event loop's connection, a longer one in a reader thread (same SQL, same snapshot rules: whole commits only). */
  private rowsOf<Row = EventRow>(statement: Database.Statement, params: unknown[], limit: number): Promise<Row[]> | Row[] {
    if (!this.readers || limit <= SQLITE_ON_LOOP_READ_MAX_EVENTS || this.closed) return statement.all(...params) as Row[];
    return this.readers.all<Row>(statement.source, params);
  }

  /** The head record the writer moves at every commit: the last position and its hash. */
  async chainHead(): Promise<ChainHeadRecord> {
    const row = this.db.prepare('SELECT position, hash FROM event_chain_head WHERE id = 1').get() as { position: number; hash: Buffer | null };
    return { position: row.position, hash: row.hash?.toString('hex') ?? null };
  }

  async headPosition(): Promise<number> {
    return this.stmt.head.get() as number;
  }

  async longestStreams(prefix: string, limit: number): Promise<StreamLength[]> {
    // However few streams are asked for, the query passes over the whole stream index: never on the event loop.
    const rows = await this.rowsOf<{ stream_id: string; events: number }>(
      this.stmt.longestStreams,
      [prefix, prefix + '\uffff', limit],
      Number.MAX_SAFE_INTEGER,
    );
    return rows.map((row) => ({ streamId: row.stream_id, events: row.events }));
  }

  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): Subscription {
    return catchUpSubscription(
      (after, limit) => this.readAll({ after, limit }),
      {
        waitForEventsAfter: (position, stopped) =>
          commitPast(position, stopped, {
            committed: this.committed,
            fileChanged: this.fileChanged,
            head: () => this.stmt.head.get() as number,
            closed: () => this.closed,
            pollIntervalMs: SUBSCRIPTION_POLL_INTERVAL_MS,
          }),
      },
      options,
      handler,
    );
  }

  /** The file is locked by another connection past the busy timeout: the same request may pass later. */
  isTransientError(error: unknown): boolean {
    return isTransientSqliteError(error);
  }

  async ping(): Promise<void> {
    if (this.writerFailure) throw this.writerFailure;
    this.stmt.ping.get();
  }

  /** Waits for queued appends to be answered, then stops the writer and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fileChanged.close();
    await Promise.allSettled(
      [...this.pending.values()].map(
        (waiting) =>
          new Promise<void>((done) => {
            const { resolve, reject } = waiting;
            waiting.resolve = (result) => (resolve(result), done());
            waiting.reject = (error) => (reject(error), done());
          }),
      ),
    );
    if (!this.writerFailure) {
      await new Promise<void>((resolve) => {
        this.writerClosed = resolve;
        this.flushOutbox();
        this.writer.postMessage({ type: 'close' });
      });
    }
    await this.writer.terminate();
    await new Promise<void>((resolve) => {
      this.checkpointer.once('message', () => resolve());
      this.checkpointer.once('exit', () => resolve());
      this.checkpointer.postMessage('close');
    });
    await this.checkpointer.terminate();
    await this.readers?.close();
    this.db.close();
  }
}

/** SQLite result codes (with their extended forms, e.g. SQLITE_BUSY_SNAPSHOT) that say "another connection holds the lock". */
const TRANSIENT_SQLITE_CODES = ['SQLITE_BUSY', 'SQLITE_LOCKED'];

/** Busy or locked past the busy timeout: nothing was written, the same request may pass later. */
export function isTransientSqliteError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_SQLITE_CODES.some((transient) => code === transient || code.startsWith(`${transient}_`));
}

function toError(error: Record<string, unknown> & { name: string; message: string }): Error {
  if (error.name === 'WrongExpectedRevisionError') {
    return new WrongExpectedRevisionError(error.streamId as string, error.expectedRevision as number, error.actualRevision as number);
  }
  // The writer thread's SQLite result code travels with the message, so callers can classify it.
  return typeof error.code === 'string' ? Object.assign(new Error(error.message), { code: error.code }) : new Error(error.message);
}

/** The hash columns as SQLite's own lowercase hex (NULL stays NULL): no Buffer per column per row. */
const hexColumn = (column: string) => `CASE WHEN ${column} IS NULL THEN NULL ELSE lower(hex(${column})) END AS ${column}`;
/** An event row as reads return it. Reading the hashes as hex in SQL costs a third less than three Buffers per row converted in JS. */
const STORED_EVENT_COLUMNS = [
  'position',
  'stream_id',
  'revision',
  'event_id',
  'type',
  'data',
  'metadata',
  hexColumn('hash'),
  hexColumn('previous_account_hash'),
  hexColumn('previous_hash'),
].join(', ');

function hexOf(value: Buffer | string | null): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.toString('hex');
}

function toStored(row: EventRow): StoredRow {
  return {
    position: row.position,
    streamId: row.stream_id,
    revision: row.revision,
    eventId: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    hash: hexOf(row.hash),
    previousAccountHash: hexOf(row.previous_account_hash),
    previousGlobalHash: hexOf(row.previous_hash),
  };
}

/** Applies numbered migrations once, in order, recording them in `schema_migrations`. */
export function migrate(db: Database.Database, component: string, migrations: readonly string[]): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version))',
  );
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations WHERE component = ?').pluck().all(component) as number[]);
  migrations.forEach((sql, index) => {
    const version = index + 1;
    if (applied.has(version)) return;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)').run(component, version, new Date().toISOString());
    }).immediate();
  });
}
