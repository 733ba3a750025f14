import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import {
  migrate,
  MigrationReport,
  migratePostgres,
  PG_CONNECT_TIMEOUT_MS,
  PG_STATEMENT_TIMEOUT_MS,
  SQLITE_BUSY_TIMEOUT_MS,
  SQLITE_FILE_NAME,
} from '@credit-ledger/event-store';
import { LedgerConfig } from '../config/ledger-config';

/** Connections of one process to the shared-state tables (keys, billing index and lease, relay checkpoints, …). */
export const STATE_POOL_SIZE = 4;

/**
 * Where the state the ledger decides on, besides the event log, lives: API keys, the billing job's
 * due index and lease, relay checkpoints (and whatever a new component adds, e.g. webhook
 * dispatcher state). One rule for every component:
 * - LEDGER_STORE=postgres: the event store's database (DATABASE_URL);
 * - LEDGER_STORE=eventstoredb: the PostgreSQL database named by DATABASE_URL (required);
 * - LEDGER_STORE=sqlite: `ledger.sqlite` in LEDGER_DATA_DIR (single host).
 *
 * A component opens its tables with `state.prepare(component, migrations)` (versioned migrations
 * per component, recorded in `ledger_schema_migrations` for PostgreSQL and in the SQLite file's own
 * table) and then talks to `state.pool` or `state.db` (see docs/event-stores.md, "State besides the
 * event log").
 */
export type StateDatabase = SqliteStateDatabase | PostgresStateDatabase;

/** Injection token of the process's StateDatabase (LedgerModule provides it). */
export const STATE_DATABASE = Symbol('STATE_DATABASE');

export interface StateMigrations {
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}

export class SqliteStateDatabase {
  readonly kind = 'sqlite';
  private constructor(readonly db: Database.Database) {}

  static open(dataDir: string): SqliteStateDatabase {
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, SQLITE_FILE_NAME));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    return new SqliteStateDatabase(db);
  }

  /** Applies the component's pending SQLite migrations. */
  async prepare(component: string, migrations: StateMigrations): Promise<void> {
    migrate(this.db, component, [...migrations.sqlite]);
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export class PostgresStateDatabase {
  readonly kind = 'postgres';
  private constructor(
    readonly pool: Pool,
    private readonly migrateOnStart: boolean,
  ) {}

  static connect(databaseUrl: string, options: { migrate?: boolean; applicationName?: string } = {}): PostgresStateDatabase {
    const pool = new Pool({
      connectionString: databaseUrl,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      statement_timeout: PG_STATEMENT_TIMEOUT_MS,
      application_name: options.applicationName ?? 'credit-ledger-state',
      max: STATE_POOL_SIZE,
    });
    pool.on('error', () => undefined); // an idle client's lost connection; the pool replaces it
    return new PostgresStateDatabase(pool, options.migrate ?? true);
  }

  /**
   * Applies the component's pending PostgreSQL migrations (one transaction, under the migrators'
   * advisory lock: instances starting at once apply each step once), or, with
   * LEDGER_MIGRATE_ON_START=false, checks that they were applied (`credit-ledger migrate`).
   */
  async prepare(component: string, migrations: StateMigrations): Promise<MigrationReport | undefined> {
    const client = await this.pool.connect();
    try {
      if (this.migrateOnStart) return await migratePostgres(client, component, migrations.postgres);
      const { rows: table } = await client.query<{ exists: boolean }>(`SELECT to_regclass('ledger_schema_migrations') IS NOT NULL AS exists`);
      const { rows } = table[0]?.exists
        ? await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ledger_schema_migrations WHERE component = $1`, [component])
        : { rows: [] as { version: number | null }[] };
      const version = rows[0]?.version ?? 0;
      if (version !== migrations.postgres.length) {
        throw new Error(
          `the database's ${component} schema is at version ${version}, this program needs ${migrations.postgres.length}: run \`credit-ledger migrate\``,
        );
      }
      return undefined;
    } finally {
      client.release();
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

/** The PostgreSQL database of the shared state, or undefined when it is the SQLite file in LEDGER_DATA_DIR. */
export function stateDatabaseUrl(config: Pick<LedgerConfig, 'store' | 'databaseUrl'>): string | undefined {
  return config.store === 'sqlite' ? undefined : config.databaseUrl;
}

/** Opens the shared-state database the configuration selects (see StateDatabase). */
export function openStateDatabase(config: LedgerConfig, purpose = 'credit-ledger-state'): StateDatabase {
  if (config.store === 'sqlite') return SqliteStateDatabase.open(config.dataDir);
  const url = stateDatabaseUrl(config);
  if (url === undefined) throw new Error(`LEDGER_STORE=${config.store} needs DATABASE_URL (the PostgreSQL database of the shared state)`);
  return PostgresStateDatabase.connect(url, { migrate: config.migrateOnStart ?? true, applicationName: purpose });
}
