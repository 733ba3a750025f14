import { LedgerConfig } from '@credit-ledger/ledger';
import { PostgresReadModelStore } from './postgres/postgres-read-model-store';
import { ReadModelStore } from './read-model-store';
import { SqliteReadModelStore } from './sqlite/sqlite-read-model-store';

/**
 * The read models live with the event log when the log is in PostgreSQL (one database to run, back
 * up and replicate); otherwise in `readmodels.sqlite` in LEDGER_DATA_DIR (the embedded deployment,
 * and EventStoreDB, which cannot hold tables).
 */
export async function openReadModelStore(config: LedgerConfig, options: { purpose?: string; readonly?: boolean } = {}): Promise<ReadModelStore> {
  if (config.store === 'postgres') {
    if (!config.databaseUrl) throw new Error('LEDGER_STORE=postgres needs DATABASE_URL');
    return PostgresReadModelStore.connect(config.databaseUrl, { migrate: config.migrateOnStart ?? true, applicationName: options.purpose });
  }
  return SqliteReadModelStore.open(config.dataDir, { readonly: options.readonly });
}
