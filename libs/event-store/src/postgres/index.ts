export * from './postgres-event-store';
export { isTransientPostgresError } from './postgres-errors';
export { PG_MAX_APPENDS_PER_GROUP_COMMIT, PG_MAX_EVENTS_PER_GROUP_COMMIT, PG_MAX_GROUP_RETRIES, PG_WRITER_CONNECTIONS } from './postgres-group-commit';
export type { StreamAppend } from './postgres-group-commit';
export { PG_FALLBACK_POLL_INTERVAL_MS, PG_LISTEN_RECONNECT_DELAY_MS, PG_MAX_POLL_INTERVAL_MS, PG_NOTIFY_SAFETY_POLL_MS } from './postgres-live-notifications';
export * from './postgres-migrations';
export { PG_EVENT_STORE_MIGRATIONS, PG_MIGRATION_COMPONENT, PG_NOTIFY_CHANNEL } from './postgres-sql';
