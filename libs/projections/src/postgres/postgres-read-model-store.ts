import { ClientBase, CustomTypesConfig, Pool, PoolClient, types } from 'pg';
import { isTransientPostgresError, MigrationReport, migratePostgres, PG_CONNECT_TIMEOUT_MS, PG_STATEMENT_TIMEOUT_MS } from '@credit-ledger/event-store';
import { Projector, tableName } from '../projector';
import { eventsAfter, ITERATE_PAGE_ROWS, ProjectionBatch, ProjectionState, PROJECTING_STATUSES_SQL, ReadModelStore } from '../read-model-store';
import { exactInteger, positional, postgresDdl } from './pg-sql';

export const PG_READ_MODELS_MIGRATION_COMPONENT = 'read_models';
/**
 * The registry is the schema the migrations own; the versioned read-model tables come and go with
 * projector versions (register, reset, retirement), like in SQLite. Migration texts are frozen once
 * released: a change is a new migration.
 */
export const PG_READ_MODEL_MIGRATIONS: readonly string[] = [
  `CREATE TABLE projection_registry (
     name       text COLLATE "C" NOT NULL,
     version    integer NOT NULL,
     checkpoint bigint  NOT NULL DEFAULT 0,
     status     text    NOT NULL CHECK (status IN ('building', 'rebuilding', 'live', 'failed')),
     error      text,
     updated_at text    NOT NULL,
     PRIMARY KEY (name, version)
   );`,
];
/** Connections for queries and projection batches (a batch holds one for its transaction). */
export const PG_READ_MODEL_POOL_SIZE = 4;
/** Serializes DDL on read-model tables between processes (two starting at once would race on CREATE TABLE IF NOT EXISTS). */
const READ_MODEL_DDL_LOCK_KEY = 0x1ed6e5;

const INT8_OID = 20;
const NUMERIC_OID = 1700;
/** bigint and numeric (SUM) columns as exact JS integers, never floats (see exactInteger). */
const READ_MODEL_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID || oid === NUMERIC_OID ? exactInteger : types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

const keyOf = (name: string, version: number) => `${name}\u0000${version}`;
const names = (projectors: readonly Projector[]) => projectors.map((p) => p.name);
const versions = (projectors: readonly Projector[]) => projectors.map((p) => p.version);
const REGISTRY_ROWS = '(name, version) IN (SELECT * FROM unnest($1::text[], $2::int[]))';

/**
 * Read models in the PostgreSQL database of the event store (LEDGER_STORE=postgres). Batches are
 * applied set-based (one or two statements per projector and batch) in one transaction that
 * first locks the projectors' registry rows (SELECT … FOR UPDATE, in a fixed order): a second
 * process projecting at the same time waits, then reads the advanced checkpoints and skips what
 * was applied.
 */
export class PostgresReadModelStore implements ReadModelStore {
  readonly kind = 'postgres';
  private readonly positionalSql = new Map<string, string>();

  private constructor(
    private readonly pool: Pool,
    readonly migration: MigrationReport | undefined,
  ) {}

  static async connect(url: string, options: { migrate?: boolean; applicationName?: string } = {}): Promise<PostgresReadModelStore> {
    const pool = new Pool({
      connectionString: url,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      statement_timeout: PG_STATEMENT_TIMEOUT_MS,
      application_name: options.applicationName ?? 'credit-ledger',
      max: PG_READ_MODEL_POOL_SIZE,
      types: READ_MODEL_TYPES,
    });
    pool.on('error', () => undefined); // an idle client's lost connection; the pool replaces it
    let migration: MigrationReport | undefined;
    try {
      const client = await pool.connect();
      try {
        if (options.migrate ?? true) migration = await migratePostgres(client, PG_READ_MODELS_MIGRATION_COMPONENT, PG_READ_MODEL_MIGRATIONS);
        else await assertSchemaCurrent(client);
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresReadModelStore(pool, migration);
  }

  /**
   * A pooled connection for a transaction or a scan. A connection lost while checked out emits
   * 'error' besides failing the query in flight; unheard, that event would crash the process. A
   * lost or unusable connection is discarded on release, never handed out again.
   */
  private async checkout(): Promise<{ client: PoolClient; release: (broken?: Error) => void }> {
    const client = await this.pool.connect();
    let lost: Error | undefined;
    const onError = (e: Error) => (lost = e);
    client.on('error', onError);
    return {
      client,
      release: (broken) => {
        client.removeListener('error', onError);
        client.release(broken ?? lost);
      },
    };
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>, options: { ddl?: boolean } = {}): Promise<T> {
    const { client, release } = await this.checkout();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      if (options.ddl) await client.query('SELECT pg_advisory_xact_lock($1)', [READ_MODEL_DDL_LOCK_KEY]);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch((rollbackFailed: Error) => (broken = rollbackFailed));
      throw e;
    } finally {
      release(broken);
    }
  }

  /** Checkpoints of these projectors, their registry rows locked until the transaction ends. */
  private async lockedCheckpoints(client: ClientBase, projectors: readonly Projector[]): Promise<Map<string, number>> {
    const { rows } = await client.query<{ name: string; version: number; checkpoint: number }>(
      `SELECT name, version, checkpoint FROM projection_registry WHERE ${REGISTRY_ROWS} ORDER BY name, version FOR UPDATE`,
      [names(projectors), versions(projectors)],
    );
    const checkpoints = new Map(rows.map((r) => [keyOf(r.name, r.version), r.checkpoint]));
    for (const p of projectors) if (!checkpoints.has(keyOf(p.name, p.version))) throw new Error(`projection ${p.name} v${p.version} is not registered`);
    return checkpoints;
  }

  async register(projectors: readonly Projector[]): Promise<void> {
    await this.transaction(
      async (client) => {
        for (const p of projectors) {
          const t = (base: string) => tableName(base, p.version);
          const ddl = postgresDdl(p.schema(t));
          if (ddl.trim() !== '') await client.query(ddl);
          const registered = await client.query<{ status: string }>('SELECT status FROM projection_registry WHERE name = $1 AND version = $2', [
            p.name,
            p.version,
          ]);
          if (registered.rows[0]?.status !== 'rebuilding' && p.indexes) await client.query(p.indexes(t));
          await client.query(
            `INSERT INTO projection_registry (name, version, checkpoint, status, updated_at) VALUES ($1, $2, 0, 'building', $3) ON CONFLICT DO NOTHING`,
            [p.name, p.version, new Date().toISOString()],
          );
        }
      },
      { ddl: true },
    );
  }

  async checkpoints(projectors: readonly Projector[]): Promise<number[]> {
    const { rows } = await this.pool.query<{ name: string; version: number; checkpoint: number }>(
      `SELECT name, version, checkpoint FROM projection_registry WHERE ${REGISTRY_ROWS}`,
      [names(projectors), versions(projectors)],
    );
    const byKey = new Map(rows.map((r) => [keyOf(r.name, r.version), r.checkpoint]));
    return projectors.map((p) => byKey.get(keyOf(p.name, p.version)) ?? 0);
  }

  async applyBatch(projectors: readonly Projector[], batch: ProjectionBatch): Promise<void> {
    await this.transaction(async (client) => {
      const checkpoints = await this.lockedCheckpoints(client, projectors);
      const advanced: Projector[] = [];
      for (const p of projectors) {
        const checkpoint = checkpoints.get(keyOf(p.name, p.version))!;
        if (checkpoint >= batch.last) continue;
        const fresh = eventsAfter(batch, checkpoint);
        if (fresh.length > 0) await p.applyPostgres(client, (base) => tableName(base, p.version), fresh);
        advanced.push(p);
      }
      if (advanced.length === 0) return;
      await client.query(`UPDATE projection_registry SET checkpoint = $3, updated_at = $4 WHERE ${REGISTRY_ROWS}`, [
        names(advanced),
        versions(advanced),
        batch.last,
        new Date().toISOString(),
      ]);
    });
  }

  async markFailed(projectors: readonly Projector[], message: string): Promise<void> {
    await this.pool.query(`UPDATE projection_registry SET status = 'failed', error = $3, updated_at = $4 WHERE ${REGISTRY_ROWS}`, [
      names(projectors),
      versions(projectors),
      message,
      new Date().toISOString(),
    ]);
  }

  async promoteCaughtUp(projectors: readonly Projector[], head: number): Promise<void> {
    await this.transaction(
      async (client) => {
        const checkpoints = await this.lockedCheckpoints(client, projectors);
        for (const p of projectors) {
          if (checkpoints.get(keyOf(p.name, p.version))! < head) continue;
          if (p.indexes) await client.query(p.indexes((base) => tableName(base, p.version))); // deferred by a replay
          await client.query(
            `UPDATE projection_registry SET status = 'live', error = NULL, updated_at = $3 WHERE name = $1 AND version = $2 AND status != 'live'`,
            [p.name, p.version, new Date().toISOString()],
          );
          const older = await client.query<{ version: number }>('SELECT version FROM projection_registry WHERE name = $1 AND version < $2', [
            p.name,
            p.version,
          ]);
          for (const { version } of older.rows) {
            for (const table of p.tables((base) => tableName(base, version))) await client.query(`DROP TABLE IF EXISTS ${table}`);
            await client.query('DELETE FROM projection_registry WHERE name = $1 AND version = $2', [p.name, version]);
          }
        }
      },
      { ddl: true },
    );
  }

  async reset(projectors: readonly Projector[]): Promise<void> {
    await this.transaction(
      async (client) => {
        await this.lockedCheckpoints(client, projectors);
        for (const p of projectors) {
          const t = (base: string) => tableName(base, p.version);
          for (const table of p.tables(t)) await client.query(`DROP TABLE IF EXISTS ${table}`);
          const ddl = postgresDdl(p.schema(t));
          if (ddl.trim() !== '') await client.query(ddl);
        }
        await client.query(`UPDATE projection_registry SET checkpoint = 0, status = 'rebuilding', error = NULL, updated_at = $3 WHERE ${REGISTRY_ROWS}`, [
          names(projectors),
          versions(projectors),
          new Date().toISOString(),
        ]);
      },
      { ddl: true },
    );
  }

  async states(): Promise<ProjectionState[]> {
    return this.all<ProjectionState>('SELECT name, version, checkpoint, status, error FROM projection_registry ORDER BY name, version');
  }

  async position(): Promise<number> {
    const [row] = await this.all<{ p: number | null }>(`SELECT MIN(checkpoint) AS p FROM projection_registry WHERE status IN (${PROJECTING_STATUSES_SQL})`);
    return row?.p ?? 0;
  }

  async activeTable(projector: string, base: string): Promise<string> {
    const [row] = await this.all<{ version: number }>(
      `SELECT version FROM projection_registry WHERE name = ? ORDER BY (status = 'live') DESC, version DESC LIMIT 1`,
      [projector],
    );
    if (!row) throw new Error(`projection ${projector} is not registered`);
    return tableName(base, row.version);
  }

  private toPositional(sql: string): string {
    let text = this.positionalSql.get(sql);
    if (text === undefined) this.positionalSql.set(sql, (text = positional(sql)));
    return text;
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.pool.query({ text: this.toPositional(sql), values: params as unknown[] })).rows as T[];
  }

  async allArrays<T extends readonly unknown[]>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.pool.query({ text: this.toPositional(sql), values: params as unknown[], rowMode: 'array' })).rows as unknown as T[];
  }

  async *iterate<T>(sql: string, params: readonly unknown[] = []): AsyncIterable<T> {
    // A cursor in a read-only transaction: bounded memory whatever the table's size.
    const { client, release } = await this.checkout();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN READ ONLY');
      await client.query({ text: `DECLARE read_model_scan NO SCROLL CURSOR FOR ${this.toPositional(sql)}`, values: params as unknown[] });
      for (;;) {
        const { rows } = await client.query(`FETCH ${ITERATE_PAGE_ROWS} FROM read_model_scan`);
        yield* rows as T[];
        if (rows.length < ITERATE_PAGE_ROWS) break;
      }
    } finally {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      release(broken);
    }
  }

  isTransient(error: unknown): boolean {
    return isTransientPostgresError(error);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function assertSchemaCurrent(client: ClientBase): Promise<void> {
  const { rows } = await client
    .query<{ version: number | null }>('SELECT max(version) AS version FROM ledger_schema_migrations WHERE component = $1', [
      PG_READ_MODELS_MIGRATION_COMPONENT,
    ])
    .catch(() => ({ rows: [{ version: 0 }] }));
  const version = rows[0]?.version ?? 0;
  if (version !== PG_READ_MODEL_MIGRATIONS.length) {
    throw new Error(
      `the database's read_models schema is at version ${version}, this program needs ${PG_READ_MODEL_MIGRATIONS.length}: run \`credit-ledger migrate\``,
    );
  }
}
