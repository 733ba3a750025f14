import Database from 'better-sqlite3';
import { SQLITE_BUSY_TIMEOUT_MS, SqliteReaderPool } from '@credit-ledger/event-store';
import { ProjectedEvent, Projector, tableName } from '../projector';
import { cachedStatement, openReadModelDb } from '../read-model-db';
import { eventsAfter, ProjectionBatch, ProjectionState, ProjectionStatus, PROJECTING_STATUSES_SQL, ReadModelStore } from '../read-model-store';
import { ACTIVE_VERSION_SQL } from '../history/active-tables';

type Applier = (batch: readonly ProjectedEvent[]) => void;

/**
 * The read models of the embedded deployment (`readmodels.sqlite` next to the event store). Writes
 * run synchronously on the one better-sqlite3 connection; a batch is one IMMEDIATE transaction,
 * so no query ever sees half of it. Queries (`all`) run in reader threads when the store is
 * opened with them (the server does), so that a year of usage never stalls the event loop.
 */
export class SqliteReadModelStore implements ReadModelStore {
  readonly kind = 'sqlite';
  private readonly appliers = new Map<Projector, Applier>();
  /** The checkpoint this store last wrote per projector: another one means another writer (a replay, a reset) moved it. */
  private readonly checkpointsWritten = new Map<Projector, number>();

  constructor(
    readonly db: Database.Database,
    private readonly readers?: SqliteReaderPool,
  ) {}

  /** `readerThreads` > 0 runs the queries in that many reader threads (default: on this thread). */
  static open(dataDir: string, options: { readonly?: boolean; readerThreads?: number } = {}): SqliteReadModelStore {
    const db = openReadModelDb(dataDir, options);
    const threads = options.readerThreads ?? 0;
    return new SqliteReadModelStore(db, threads > 0 ? new SqliteReaderPool(db.name, SQLITE_BUSY_TIMEOUT_MS, threads) : undefined);
  }

  private checkpointOf(p: Projector): number {
    return cachedStatement(this.db, 'SELECT checkpoint FROM projection_registry WHERE name = ? AND version = ?').pluck().get(p.name, p.version) as number;
  }

  private applierOf(p: Projector): Applier {
    let apply = this.appliers.get(p);
    if (!apply) this.appliers.set(p, (apply = p.prepare(this.db, (base) => tableName(base, p.version))));
    return apply;
  }

  async register(projectors: readonly Projector[]): Promise<void> {
    const now = new Date().toISOString();
    for (const p of projectors) {
      const t = (base: string) => tableName(base, p.version);
      this.db.exec(p.schema(t));
      const registered = this.db.prepare('SELECT status FROM projection_registry WHERE name = ? AND version = ?').get(p.name, p.version) as
        { status: string } | undefined;
      if (registered?.status !== 'rebuilding' && p.indexes) this.db.exec(p.indexes(t));
      this.db
        .prepare(`INSERT OR IGNORE INTO projection_registry (name, version, checkpoint, status, updated_at) VALUES (?, ?, 0, 'building', ?)`)
        .run(p.name, p.version, now);
      this.applierOf(p);
    }
  }

  async checkpoints(projectors: readonly Projector[]): Promise<number[]> {
    return projectors.map((p) => this.checkpointOf(p));
  }

  async applyBatch(projectors: readonly Projector[], batch: ProjectionBatch): Promise<void> {
    const writeCheckpoint = cachedStatement(
      this.db,
      'UPDATE projection_registry SET checkpoint = ?, updated_at = ? WHERE name = ? AND version = ? AND checkpoint < ?',
    );
    try {
      this.db
        .transaction(() => {
          const stamp = new Date().toISOString();
          for (const p of projectors) {
            const checkpoint = this.checkpointOf(p);
            if (checkpoint >= batch.last) continue;
            // Another writer moved the checkpoint (or this is the first batch): what the applier remembers of the tables may be gone.
            if (this.checkpointsWritten.get(p) !== checkpoint) this.appliers.delete(p);
            const fresh = eventsAfter(batch, checkpoint);
            if (fresh.length > 0) this.applierOf(p)(fresh);
            writeCheckpoint.run(batch.last, stamp, p.name, p.version, batch.last);
            this.checkpointsWritten.set(p, batch.last);
          }
        })
        .immediate();
    } catch (error) {
      // What the appliers remember of their writes was rolled back with them: forgetting the
      // checkpoints written makes each prepare its applier again at its next batch.
      this.checkpointsWritten.clear();
      throw error;
    }
  }

  async markFailed(projectors: readonly Projector[], message: string): Promise<void> {
    const mark = this.db.prepare(`UPDATE projection_registry SET status = 'failed', error = ?, updated_at = ? WHERE name = ? AND version = ?`);
    for (const p of projectors) mark.run(message, new Date().toISOString(), p.name, p.version);
  }

  async promoteCaughtUp(projectors: readonly Projector[], head: number): Promise<void> {
    this.db
      .transaction(() => {
        for (const p of projectors) {
          if (this.checkpointOf(p) < head) continue;
          if (p.indexes) this.db.exec(p.indexes((base) => tableName(base, p.version))); // deferred by a replay
          this.db
            .prepare(`UPDATE projection_registry SET status = 'live', error = NULL, updated_at = ? WHERE name = ? AND version = ? AND status != 'live'`)
            .run(new Date().toISOString(), p.name, p.version);
          const older = this.db.prepare('SELECT version FROM projection_registry WHERE name = ? AND version < ?').all(p.name, p.version) as {
            version: number;
          }[];
          for (const { version } of older) {
            for (const table of p.tables((base) => tableName(base, version))) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
            this.db.prepare('DELETE FROM projection_registry WHERE name = ? AND version = ?').run(p.name, version);
          }
        }
      })
      .immediate();
  }

  async reset(projectors: readonly Projector[]): Promise<void> {
    this.db
      .transaction(() => {
        for (const p of projectors) {
          const t = (base: string) => tableName(base, p.version);
          for (const table of p.tables(t)) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
          this.db.exec(p.schema(t));
          this.db
            .prepare(`UPDATE projection_registry SET checkpoint = 0, status = 'rebuilding', error = NULL, updated_at = ? WHERE name = ? AND version = ?`)
            .run(new Date().toISOString(), p.name, p.version);
          this.appliers.delete(p); // its statements named the dropped tables
        }
      })
      .immediate();
  }

  async states(): Promise<ProjectionState[]> {
    // As arrays: /health reads this at every call, and row objects cost a lookup of each column name per row.
    const rows = cachedStatement(this.db, 'SELECT name, version, checkpoint, status, error FROM projection_registry ORDER BY name, version')
      .raw(true)
      .all() as [string, number, number, ProjectionStatus, string | null][];
    return rows.map(([name, version, checkpoint, status, error]) => ({ name, version, checkpoint, status, error }));
  }

  async position(): Promise<number> {
    const row = cachedStatement(this.db, `SELECT MIN(checkpoint) AS p FROM projection_registry WHERE status IN (${PROJECTING_STATUSES_SQL})`).get() as {
      p: number | null;
    };
    return row.p ?? 0;
  }

  async activeTable(projector: string, base: string): Promise<string> {
    const row = cachedStatement(this.db, ACTIVE_VERSION_SQL).get(projector) as { version: number } | undefined;
    if (!row) throw new Error(`projection ${projector} is not registered`);
    return tableName(base, row.version);
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.readers) return this.readers.all<T>(sql, params);
    return cachedStatement(this.db, sql).all(...params) as T[];
  }

  async allArrays<T extends readonly unknown[]>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.readers) return this.readers.allArrays<T>(sql, params);
    return this.db
      .prepare(sql)
      .raw(true)
      .all(...params) as T[];
  }

  async *iterate<T>(sql: string, params: readonly unknown[] = []): AsyncIterable<T> {
    // Streams straight from SQLite; the connection is busy until the scan ends (verify owns its connection).
    yield* this.db.prepare(sql).iterate(...params) as Iterable<T>;
  }

  isTransient(): boolean {
    return false; // in-process: a failed batch fails the same way again (busy waits are SQLite's own busy_timeout)
  }

  async close(): Promise<void> {
    await this.readers?.close();
    this.db.close();
  }
}
