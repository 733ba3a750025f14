import Database from 'better-sqlite3';
import { Pool } from 'pg';
import { PostgresStateDatabase, SqliteStateDatabase, StateDatabase, StateMigrations } from '../state/state-database';
import { DUE_INDEX_CHECKPOINT, DUE_INDEX_COMPONENT, DueIndex } from './due-index';

/** Frozen once released: a change is a new entry in both lists. */
export const DUE_INDEX_MIGRATIONS: StateMigrations = {
  sqlite: [
    `CREATE TABLE billing_due (
       account_id    TEXT PRIMARY KEY,
       cycle_ends_at TEXT NOT NULL
     );
     CREATE INDEX billing_due_ends ON billing_due (cycle_ends_at);
     CREATE TABLE billing_checkpoint (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
     CREATE TABLE billing_lease (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);`,
  ],
  postgres: [
    `CREATE TABLE billing_due (
       account_id    text COLLATE "C" PRIMARY KEY,
       cycle_ends_at text COLLATE "C" NOT NULL
     );
     CREATE INDEX billing_due_ends ON billing_due (cycle_ends_at);
     CREATE TABLE billing_checkpoint (name text PRIMARY KEY, position bigint NOT NULL);
     CREATE TABLE billing_lease (name text PRIMARY KEY, owner text NOT NULL, expires_at bigint NOT NULL);`,
  ],
};

const UPSERT_SQLITE =
  'INSERT INTO billing_due (account_id, cycle_ends_at) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET cycle_ends_at = excluded.cycle_ends_at';

export class SqliteDueIndex extends DueIndex {
  private constructor(private readonly db: Database.Database) {
    super();
  }

  static async open(state: SqliteStateDatabase): Promise<SqliteDueIndex> {
    await state.prepare(DUE_INDEX_COMPONENT, DUE_INDEX_MIGRATIONS);
    return new SqliteDueIndex(state.db);
  }

  async checkpoint(): Promise<number> {
    return (this.db.prepare('SELECT position FROM billing_checkpoint WHERE name = ?').pluck().get(DUE_INDEX_CHECKPOINT) as number | undefined) ?? 0;
  }

  protected async applyPage(ends: ReadonlyMap<string, string>, position: number, earliest: ReadonlyMap<string, string>): Promise<void> {
    const upsert = this.db.prepare(UPSERT_SQLITE);
    const sooner = this.db.prepare(
      'INSERT INTO billing_due (account_id, cycle_ends_at) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET cycle_ends_at = MIN(cycle_ends_at, excluded.cycle_ends_at)',
    );
    const save = this.db.prepare(
      'INSERT INTO billing_checkpoint (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = MAX(position, excluded.position)',
    );
    this.db.transaction(() => {
      for (const [accountId, endsAt] of ends) upsert.run(accountId, endsAt);
      for (const [accountId, expiresAt] of earliest) sooner.run(accountId, expiresAt);
      save.run(DUE_INDEX_CHECKPOINT, position);
    })();
  }

  async due(upTo: string): Promise<string[]> {
    return this.db.prepare('SELECT account_id FROM billing_due WHERE cycle_ends_at <= ? ORDER BY cycle_ends_at, account_id').pluck().all(upTo) as string[];
  }

  async updateMany(rows: readonly (readonly [string, string])[]): Promise<void> {
    const upsert = this.db.prepare(UPSERT_SQLITE);
    this.db.transaction(() => {
      for (const [accountId, endsAt] of rows) upsert.run(accountId, endsAt);
    })();
  }

  async tryLease(name: string, owner: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const result = this.db
      .prepare(
        `INSERT INTO billing_lease (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE billing_lease.expires_at < ? OR billing_lease.owner = excluded.owner`,
      )
      .run(name, owner, now + ttlMs, now);
    return result.changes === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.db.prepare('DELETE FROM billing_lease WHERE name = ? AND owner = ?').run(name, owner);
  }

  /** The connection belongs to the state database. */
  async close(): Promise<void> {}
}

/** The database's clock in epoch milliseconds (one clock for every instance). */
const DB_NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

export class PostgresDueIndex extends DueIndex {
  private constructor(private readonly pool: Pool) {
    super();
  }

  static async open(state: PostgresStateDatabase): Promise<PostgresDueIndex> {
    await state.prepare(DUE_INDEX_COMPONENT, DUE_INDEX_MIGRATIONS);
    return new PostgresDueIndex(state.pool);
  }

  async checkpoint(): Promise<number> {
    const { rows } = await this.pool.query<{ position: string }>('SELECT position FROM billing_checkpoint WHERE name = $1', [DUE_INDEX_CHECKPOINT]);
    return rows.length === 0 ? 0 : Number(rows[0].position);
  }

  protected async applyPage(ends: ReadonlyMap<string, string>, position: number, earliest: ReadonlyMap<string, string>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO billing_due (account_id, cycle_ends_at) SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT (account_id) DO UPDATE SET cycle_ends_at = excluded.cycle_ends_at`,
        [[...ends.keys()], [...ends.values()]],
      );
      await client.query(
        `INSERT INTO billing_due (account_id, cycle_ends_at) SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT (account_id) DO UPDATE SET cycle_ends_at = LEAST(billing_due.cycle_ends_at, excluded.cycle_ends_at)`,
        [[...earliest.keys()], [...earliest.values()]],
      );
      await client.query(
        `INSERT INTO billing_checkpoint (name, position) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET position = GREATEST(billing_checkpoint.position, excluded.position)`,
        [DUE_INDEX_CHECKPOINT, position],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async due(upTo: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ account_id: string }>(
      'SELECT account_id FROM billing_due WHERE cycle_ends_at <= $1 ORDER BY cycle_ends_at, account_id',
      [upTo],
    );
    return rows.map((row) => row.account_id);
  }

  async updateMany(rows: readonly (readonly [string, string])[]): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(
      `INSERT INTO billing_due (account_id, cycle_ends_at) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (account_id) DO UPDATE SET cycle_ends_at = excluded.cycle_ends_at`,
      [rows.map((row) => row[0]), rows.map((row) => row[1])],
    );
  }

  async tryLease(name: string, owner: string, ttlMs: number, now?: number): Promise<boolean> {
    const at = now === undefined ? DB_NOW_MS : '$4::bigint';
    const result = await this.pool.query(
      `INSERT INTO billing_lease (name, owner, expires_at) VALUES ($1, $2, ${at} + $3::bigint)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE billing_lease.expires_at < ${at} OR billing_lease.owner = excluded.owner`,
      now === undefined ? [name, owner, ttlMs] : [name, owner, ttlMs, now],
    );
    return result.rowCount === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.pool.query('DELETE FROM billing_lease WHERE name = $1 AND owner = $2', [name, owner]);
  }

  /** The pool belongs to the state database. */
  async close(): Promise<void> {}
}

export function openDueIndex(state: StateDatabase): Promise<DueIndex> {
  return state.kind === 'postgres' ? PostgresDueIndex.open(state) : SqliteDueIndex.open(state);
}
