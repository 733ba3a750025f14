import type { ClientBase } from 'pg';

/** One advisory lock key for every migrator, so two processes starting at once apply each step once. */
const MIGRATION_LOCK_KEY = 0x1ed6e4; // "ledger" in spirit; any constant shared by all versions works

export interface MigrationReport {
  readonly component: string;
  /** Versions applied by this call (empty when the schema was already current). */
  readonly applied: readonly number[];
  readonly currentVersion: number;
}

/**
 * Applies numbered migrations once, in order, in ONE transaction under an advisory lock, recording
 * them in `ledger_schema_migrations`. DDL is transactional in PostgreSQL: a failing step leaves the
 * schema as it was. A database that is newer than this code (a version we do not know) is refused.
 */
export async function migratePostgres(client: ClientBase, component: string, migrations: readonly string[]): Promise<MigrationReport> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ledger_schema_migrations (
         component  text        NOT NULL,
         version    integer     NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (component, version)
       )`,
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM ledger_schema_migrations WHERE component = $1', [component]);
    const known = new Set(rows.map((row) => row.version));
    const newest = Math.max(0, ...known);
    if (newest > migrations.length) {
      throw new Error(
        `the database's ${component} schema is at version ${newest}, newer than this program knows (${migrations.length}); upgrade credit-ledger`,
      );
    }
    const applied: number[] = [];
    for (let index = 0; index < migrations.length; index++) {
      const version = index + 1;
      if (known.has(version)) continue;
      await client.query(migrations[index]);
      await client.query('INSERT INTO ledger_schema_migrations (component, version) VALUES ($1, $2)', [component, version]);
      applied.push(version);
    }
    await client.query('COMMIT');
    return { component, applied, currentVersion: migrations.length };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
