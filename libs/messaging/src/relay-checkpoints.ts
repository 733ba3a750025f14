import Database from 'better-sqlite3';
import { Pool } from 'pg';
import { migrate } from '@credit-ledger/event-store';
import { PostgresStateDatabase, SqliteStateDatabase, StateDatabase, StateMigrations } from '@credit-ledger/ledger';

/** Where a relay resumes: the store position of the last event the broker acknowledged. */
export interface RelayCheckpoints {
  load(name: string): Promise<number>;
  /** Durable when it resolves. Never moves a checkpoint backwards. */
  save(name: string, position: number): Promise<void>;
  close(): Promise<void>;
}

export const RELAY_CHECKPOINTS_COMPONENT = 'relay_checkpoints';

/** Frozen once released: a change is a new entry in both lists. */
export const RELAY_CHECKPOINT_MIGRATIONS: StateMigrations = {
  sqlite: [
    `CREATE TABLE relay_checkpoints (
       name       TEXT    PRIMARY KEY,
       position   INTEGER NOT NULL,
       updated_at TEXT    NOT NULL
     );`,
  ],
  postgres: [
    `CREATE TABLE relay_checkpoints (
       name       text        PRIMARY KEY,
       position   bigint      NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now()
     );`,
  ],
};

function assertPosition(position: number): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`a checkpoint is a store position, got ${position}`);
}

/**
 * Relay checkpoints in the ledger's own SQLite file (same data dir, same backups), written with
 * synchronous=FULL: a saved checkpoint survives a crash, so the relay never skips an event.
 */
export class SqliteRelayCheckpoints implements RelayCheckpoints {
  private readonly select: Database.Statement;
  private readonly upsert: Database.Statement;

  /** On a connection of its own to `ledger.sqlite` in `dataDir` (closed with the checkpoints). */
  static open(dataDir: string): SqliteRelayCheckpoints {
    const state = SqliteStateDatabase.open(dataDir);
    migrate(state.db, RELAY_CHECKPOINTS_COMPONENT, RELAY_CHECKPOINT_MIGRATIONS.sqlite);
    return new SqliteRelayCheckpoints(state.db, () => state.close());
  }

  /** On the process's shared-state database (which closes it). */
  static async onState(state: SqliteStateDatabase): Promise<SqliteRelayCheckpoints> {
    await state.prepare(RELAY_CHECKPOINTS_COMPONENT, RELAY_CHECKPOINT_MIGRATIONS);
    return new SqliteRelayCheckpoints(state.db, async () => undefined);
  }

  private constructor(
    db: Database.Database,
    private readonly release: () => Promise<void>,
  ) {
    this.select = db.prepare('SELECT position FROM relay_checkpoints WHERE name = ?').pluck();
    this.upsert = db.prepare(
      `INSERT INTO relay_checkpoints (name, position, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
       WHERE excluded.position > relay_checkpoints.position`,
    );
  }

  async load(name: string): Promise<number> {
    return (this.select.get(name) as number | undefined) ?? 0;
  }

  async save(name: string, position: number): Promise<void> {
    assertPosition(position);
    this.upsert.run(name, position, new Date().toISOString());
  }

  close(): Promise<void> {
    return this.release();
  }
}

/**
 * Relay checkpoints in the shared PostgreSQL database (LEDGER_STORE=postgres or eventstoredb): a
 * relay moved to another host resumes where the last one stopped. Committed (synchronous_commit
 * on) before `save` resolves.
 */
export class PostgresRelayCheckpoints implements RelayCheckpoints {
  private constructor(private readonly pool: Pool) {}

  static async onState(state: PostgresStateDatabase): Promise<PostgresRelayCheckpoints> {
    await state.prepare(RELAY_CHECKPOINTS_COMPONENT, RELAY_CHECKPOINT_MIGRATIONS);
    return new PostgresRelayCheckpoints(state.pool);
  }

  async load(name: string): Promise<number> {
    const { rows } = await this.pool.query<{ position: string }>('SELECT position FROM relay_checkpoints WHERE name = $1', [name]);
    return rows.length === 0 ? 0 : Number(rows[0].position);
  }

  async save(name: string, position: number): Promise<void> {
    assertPosition(position);
    await this.pool.query(
      `INSERT INTO relay_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
       WHERE excluded.position > relay_checkpoints.position`,
      [name, position],
    );
  }

  /** The pool belongs to the state database. */
  async close(): Promise<void> {}
}

/** The relay checkpoints of the shared-state database (see StateDatabase). */
export function openRelayCheckpoints(state: StateDatabase): Promise<RelayCheckpoints> {
  return state.kind === 'postgres' ? PostgresRelayCheckpoints.onState(state) : SqliteRelayCheckpoints.onState(state);
}
