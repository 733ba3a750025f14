import { SQLITE_READER_THREADS } from '@credit-ledger/event-store';
import { LedgerConfig } from '@credit-ledger/ledger';
import { PostgresReadModelStore } from './postgres/postgres-read-model-store';
import { ReadModelStore } from './read-model-store';
import { SqliteReadModelStore } from './sqlite/sqlite-read-model-store';

/**
 * The read models live in PostgreSQL (DATABASE_URL) with LEDGER_STORE=postgres (the event log's
 * own database: one database to run, back up and replicate) and with LEDGER_STORE=eventstoredb
 * (which cannot hold tables; every instance reads the same read models); in `readmodels.sqlite`
 * in LEDGER_DATA_DIR only for the embedded store.
 */
export async function openReadModelStore(
  config: LedgerConfig,
  options: { purpose?: string; readonly?: boolean; /** Queries served to clients: off the event loop (SQLite). */ serving?: boolean } = {},
): Promise<ReadModelStore> {
  if (config.store !== 'sqlite') {
    if (!config.databaseUrl) throw new Error(`LEDGER_STORE=${config.store} needs DATABASE_URL`);
    return PostgresReadModelStore.connect(config.databaseUrl, { migrate: config.migrateOnStart ?? true, applicationName: options.purpose });
  }
  return SqliteReadModelStore.open(config.dataDir, { readonly: options.readonly, readerThreads: options.serving ? SQLITE_READER_THREADS : 0 });
}
