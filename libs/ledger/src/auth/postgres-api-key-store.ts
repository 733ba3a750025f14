import { Pool } from 'pg';
import { PostgresStateDatabase } from '../state/state-database';
import { ApiKeyRecord, ApiKeyStore, StoredKey } from './api-key-store';
import { API_KEYS_COMPONENT, API_KEY_MIGRATIONS } from './api-key-migrations';
import { toStoredKey } from './sqlite-api-key-store';

/**
 * Keys in the shared PostgreSQL database: a key created or revoked through any instance (or the
 * CLI) is seen by all. Lookups go through `CachedAuthenticator` (API_KEY_CACHE_TTL_MS) in the server.
 */
export class PostgresApiKeyStore extends ApiKeyStore {
  private constructor(private readonly pool: Pool) {
    super();
  }

  static async open(state: PostgresStateDatabase): Promise<PostgresApiKeyStore> {
    await state.prepare(API_KEYS_COMPONENT, API_KEY_MIGRATIONS);
    return new PostgresApiKeyStore(state.pool);
  }

  protected async findByHash(keyHash: string): Promise<StoredKey | undefined> {
    const { rows } = await this.pool.query({ name: 'api-key-by-hash', text: 'SELECT * FROM api_keys WHERE key_hash = $1', values: [keyHash] });
    return rows[0] && toStoredKey(rows[0]);
  }

  protected async insert(key: StoredKey): Promise<void> {
    await this.pool.query('INSERT INTO api_keys (key_id, key_hash, role, account_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      key.keyId,
      key.keyHash,
      key.role,
      key.accountId,
      key.userId,
      key.createdAt,
    ]);
  }

  protected async markRevoked(keyId: string): Promise<boolean> {
    const result = await this.pool.query('UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL', [new Date().toISOString(), keyId]);
    return result.rowCount === 1;
  }

  async list(accountId?: string): Promise<ApiKeyRecord[]> {
    const { rows } =
      accountId === undefined
        ? await this.pool.query('SELECT * FROM api_keys ORDER BY created_at, key_id')
        : await this.pool.query('SELECT * FROM api_keys WHERE account_id = $1 ORDER BY created_at, key_id', [accountId]);
    return rows.map((row) => {
      const { keyHash: _, ...record } = toStoredKey(row);
      return record;
    });
  }

  /** The pool belongs to the state database. */
  async close(): Promise<void> {}
}
