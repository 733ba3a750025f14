import { StateDatabase } from '../state/state-database';
import { ApiKeyStore } from './api-key-store';
import { PostgresApiKeyStore } from './postgres-api-key-store';
import { SqliteApiKeyStore } from './sqlite-api-key-store';

/** The key store of the shared-state database (the server and the CLI open the same one). */
export function openApiKeyStore(state: StateDatabase): Promise<ApiKeyStore> {
  return state.kind === 'postgres' ? PostgresApiKeyStore.open(state) : SqliteApiKeyStore.open(state);
}
