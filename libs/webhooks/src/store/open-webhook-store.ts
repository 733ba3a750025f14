import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_INTERVAL_MS, migrate, SQLITE_BUSY_TIMEOUT_MS, SqliteCheckpointer, WAL_AUTOCHECKPOINT_PAGES } from '@credit-ledger/event-store';
import { LedgerConfig, PostgresStateDatabase, stateDatabaseUrl } from '@credit-ledger/ledger';
import { PostgresSqlDb, SqliteSqlDb } from './sql-db';
import { WEBHOOK_MIGRATIONS, WEBHOOKS_COMPONENT } from './webhook-migrations';
import { WebhookStore } from './webhook-store';

/** The SQLite file of webhooks in LEDGER_DATA_DIR: its own file, so that deliveries never wait on the event writer. */
export const WEBHOOKS_SQLITE_FILE = 'webhooks.sqlite';

/** What opening the webhook store needs of the ledger's configuration (plain data: a dispatcher thread is given it). */
export type WebhookStoreConfig = Pick<LedgerConfig, 'store' | 'dataDir' | 'databaseUrl' | 'migrateOnStart'>;

/**
 * The webhook tables where the shared state lives: PostgreSQL (the DATABASE_URL of
 * LEDGER_STORE=postgres or eventstoredb; every instance sees the same endpoints, deliveries and
 * lease), or `webhooks.sqlite` in LEDGER_DATA_DIR (single host; the API and a worker on that host share it).
 */
export async function openWebhookStore(config: WebhookStoreConfig): Promise<WebhookStore> {
  const url = stateDatabaseUrl(config);
  if (url !== undefined) {
    const state = PostgresStateDatabase.connect(url, { migrate: config.migrateOnStart ?? true, applicationName: 'credit-ledger-webhooks' });
    try {
      await state.prepare(WEBHOOKS_COMPONENT, WEBHOOK_MIGRATIONS);
    } catch (e) {
      await state.close();
      throw e;
    }
    return new WebhookStore(new PostgresSqlDb(state.pool), () => state.close());
  }
  if (config.store !== 'sqlite') throw new Error(`LEDGER_STORE=${config.store} needs DATABASE_URL (the PostgreSQL database of the shared state)`);
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, WEBHOOKS_SQLITE_FILE);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a power cut may lose the last transactions, never half of one. What derives
  // from the log rolls back with the checkpoint (derived again), a lost attempt record means the
  // delivery is made again (same webhook-id): at least once either way.
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  migrate(db, WEBHOOKS_COMPONENT, [...WEBHOOK_MIGRATIONS.sqlite]);
  // Checkpoints off the event loop (as the event store does): SQLite's own, every 1,000 pages, would
  // run inside a dispatcher's COMMIT and sync the files while deliveries wait. Kept as a backstop.
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = SqliteCheckpointer.start(file, CHECKPOINT_INTERVAL_MS, SQLITE_BUSY_TIMEOUT_MS);
  return new WebhookStore(new SqliteSqlDb(db), async () => {
    await checkpointer.close();
    if (db.open) db.close();
  });
}
