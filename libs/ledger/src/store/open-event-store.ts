import { EventStore, PostgresEventStore, SqliteEventStore } from '@credit-ledger/event-store';
import { LedgerConfig } from '../config/ledger-config';

/** Names the store a config selects, without secrets (for logs and `store` commands). */
export function describeStore(config: LedgerConfig): string {
  switch (config.store) {
    case 'sqlite':
      return `sqlite:${config.dataDir}`;
    case 'postgres':
      return `postgres:${redactUrl(config.databaseUrl ?? '')}`;
    case 'eventstoredb':
      return `eventstoredb:${redactUrl(config.eventStoreConnectionString ?? '')}`;
    default: {
      const never: never = config.store;
      throw new Error(`unknown store ${String(never)}`);
    }
  }
}

/** Opens the event store the configuration selects (LEDGER_STORE), running its migrations unless told not to. */
export async function openEventStore(config: LedgerConfig, purpose = 'credit-ledger'): Promise<EventStore> {
  switch (config.store) {
    case 'sqlite':
      return SqliteEventStore.open(config.dataDir);
    case 'postgres':
      if (!config.databaseUrl) throw new Error('LEDGER_STORE=postgres needs DATABASE_URL');
      return PostgresEventStore.connect(config.databaseUrl, { migrate: config.migrateOnStart ?? true, applicationName: purpose });
    case 'eventstoredb': {
      if (!config.eventStoreConnectionString) throw new Error('LEDGER_STORE=eventstoredb needs EVENTSTORE_CONNECTION_STRING');
      // Loaded on demand: the gRPC client is only paid for by deployments that use it.
      const { EventStoreDbEventStore } = await import('@credit-ledger/event-store/eventstoredb');
      return EventStoreDbEventStore.connect(config.eventStoreConnectionString);
    }
    default: {
      const never: never = config.store;
      throw new Error(`unknown store ${String(never)}`);
    }
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
