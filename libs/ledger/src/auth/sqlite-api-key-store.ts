import Database from 'better-sqlite3';
import { Role } from '@credit-ledger/domain';
import { SqliteStateDatabase } from '../state/state-database';
import { ApiKeyRecord, ApiKeyStore, StoredKey } from './api-key-store';
import { API_KEYS_COMPONENT, API_KEY_MIGRATIONS } from './api-key-migrations';

interface KeyRow {
  key_id: string;
  key_hash: string;
  role: Role;
  account_id: string;
  user_id: string | null;
  created_at: string;
  revoked_at: string | null;
}

export function toStoredKey(row: KeyRow): StoredKey {
  return {
    keyId: row.key_id,
    keyHash: row.key_hash,
    role: row.role,
    accountId: row.account_id,
    userId: row.user_id,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

const toRecord = ({ keyHash: _, ...record }: StoredKey): ApiKeyRecord => record;

/** Keys in `ledger.sqlite` (LEDGER_STORE=sqlite): one host; lookups are local and uncached. */
export class SqliteApiKeyStore extends ApiKeyStore {
  private readonly byHash: Database.Statement;

  private constructor(private readonly db: Database.Database) {
    super();
    this.byHash = db.prepare('SELECT * FROM api_keys WHERE key_hash = ?');
  }

  static async open(state: SqliteStateDatabase): Promise<SqliteApiKeyStore> {
    await state.prepare(API_KEYS_COMPONENT, API_KEY_MIGRATIONS);
    return new SqliteApiKeyStore(state.db);
  }

  protected async findByHash(keyHash: string): Promise<StoredKey | undefined> {
    const row = this.byHash.get(keyHash) as KeyRow | undefined;
    return row && toStoredKey(row);
  }

  protected async insert(key: StoredKey): Promise<void> {
    this.db
      .prepare('INSERT INTO api_keys (key_id, key_hash, role, account_id, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(key.keyId, key.keyHash, key.role, key.accountId, key.userId, key.createdAt);
  }

  protected async markRevoked(keyId: string): Promise<boolean> {
    return this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL').run(new Date().toISOString(), keyId).changes === 1;
  }

  async list(accountId?: string): Promise<ApiKeyRecord[]> {
    const rows = (
      accountId === undefined
        ? this.db.prepare('SELECT * FROM api_keys ORDER BY created_at').all()
        : this.db.prepare('SELECT * FROM api_keys WHERE account_id = ? ORDER BY created_at').all(accountId)
    ) as KeyRow[];
    return rows.map((row) => toRecord(toStoredKey(row)));
  }

  /** The connection belongs to the state database. */
  async close(): Promise<void> {}
}
