import Database from 'better-sqlite3';
import { Pool, PoolClient } from 'pg';

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

/**
 * The few statements the webhook store needs, over SQLite or PostgreSQL. Statements use `?`
 * placeholders (rewritten to $n for PostgreSQL); integers come back as numbers from both.
 */
export interface SqlDb {
  readonly dialect: 'sqlite' | 'postgres';
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** `work` runs in one transaction on one connection (the SqlDb it gets). */
  tx<T>(work: (db: SqlDb) => Promise<T>): Promise<T>;
}

/** Columns holding epoch milliseconds or counts: bigint in PostgreSQL, read back as numbers. */
function numbers(row: Row): Row {
  for (const key of Object.keys(row)) {
    const value = row[key];
    if (typeof value === 'string' && NUMERIC_COLUMNS.has(key)) row[key] = Number(value);
  }
  return row;
}
const NUMERIC_COLUMNS = new Set([
  'seq',
  'position',
  'created_position',
  'created_at',
  'updated_at',
  'disabled_at',
  'failing_since',
  'previous_secret_until',
  'next_attempt_at',
  'first_attempt_at',
  'completed_at',
  'attempt_count',
  'expires_at_ms',
  'count',
]);

/** One connection, statements run one at a time (a transaction holds the connection to itself). */
export class SqliteSqlDb implements SqlDb {
  readonly dialect = 'sqlite';
  private queue: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private direct(): SqlDb {
    return {
      dialect: 'sqlite',
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => this.statement(sql).all(...params) as T[],
      run: async (sql: string, params: readonly SqlValue[] = []) => this.statement(sql).run(...params).changes,
      tx: (work) => work(this.direct()),
    };
  }

  all<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.exclusive(async () => this.statement(sql).all(...params) as T[]);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.exclusive(async () => this.statement(sql).run(...params).changes);
  }

  tx<T>(work: (db: SqlDb) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.direct());
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }
}

function dollars(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

export class PostgresSqlDb implements SqlDb {
  readonly dialect = 'postgres';
  constructor(private readonly pool: Pool | PoolClient) {}

  async all<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const { rows } = await this.pool.query(dollars(sql), params as SqlValue[]);
    return rows.map(numbers) as T[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.pool.query(dollars(sql), params as SqlValue[])).rowCount ?? 0;
  }

  async tx<T>(work: (db: SqlDb) => Promise<T>): Promise<T> {
    if (!(this.pool instanceof Pool)) return work(this);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(new PostgresSqlDb(client));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
