import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, SQLITE_BUSY_TIMEOUT_MS } from '@credit-ledger/event-store';

export const READ_MODEL_FILE_NAME = 'readmodels.sqlite';

/**
 * The read models of the embedded deployment: a sibling file of the event store. SQLite allows
 * one writer per database file, so keeping projections in their own file means a rebuild never
 * holds the lock that command appends need. Each batch of projected events and the projector's
 * checkpoint commit in one transaction; synchronous=NORMAL is enough here because a read model
 * lost to a power cut is re-projected from its (equally lost) checkpoint.
 */
export function openReadModelDb(dataDir: string, options: { readonly?: boolean } = {}): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, READ_MODEL_FILE_NAME));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  db.pragma('cache_size = -65536'); // 64 MiB: aggregate upserts hit the same pages over and over
  migrate(db, 'projections', [
    `CREATE TABLE projection_registry (
       name       TEXT    NOT NULL,
       version    INTEGER NOT NULL,
       checkpoint INTEGER NOT NULL DEFAULT 0,
       status     TEXT    NOT NULL CHECK (status IN ('building', 'rebuilding', 'live', 'failed')),
       error      TEXT,
       updated_at TEXT    NOT NULL,
       PRIMARY KEY (name, version)
     );`,
  ]);
  if (options.readonly) db.pragma('query_only = ON');
  return db;
}

const statementCaches = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** A statement prepared once per connection and SQL text: queries run on every request, preparing does not. */
export function cachedStatement(db: Database.Database, sql: string): Database.Statement {
  let cache = statementCaches.get(db);
  if (!cache) statementCaches.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}
