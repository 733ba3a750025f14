import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Principal, Role } from '@credit-ledger/domain';

export const API_KEY_PREFIX = 'clk';
const SECRET_BYTES = 32;

export interface ApiKeyRecord {
  readonly keyId: string;
  readonly role: Role;
  readonly accountId: string;
  readonly userId: string | null;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** What the store keeps of a key: never the key itself, only its SHA-256 hash. */
export interface StoredKey extends ApiKeyRecord {
  readonly keyHash: string;
}

export interface NewKey {
  readonly accountId: string;
  readonly role: Role;
  readonly userId?: string | null;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * API keys, stored as SHA-256 hashes (keys carry 256 bits of randomness, so a fast hash is the
 * right tool; a password KDF would only slow every request). The plain key is shown once.
 * Implementations: `SqliteApiKeyStore` (LEDGER_DATA_DIR, single host) and `PostgresApiKeyStore`
 * (the shared-state database: every instance sees every key). The server and the CLI open the
 * same one (`openApiKeyStore`). An abstract class so that it is also the injection token.
 */
export abstract class ApiKeyStore {
  /** The stored row for a key hash (revoked ones included), or undefined. */
  protected abstract findByHash(keyHash: string): Promise<StoredKey | undefined>;
  protected abstract insert(key: StoredKey): Promise<void>;
  /** Marks a key revoked; false if there is no such active key. */
  protected abstract markRevoked(keyId: string): Promise<boolean>;
  abstract list(accountId?: string): Promise<ApiKeyRecord[]>;
  abstract close(): Promise<void>;

  private readonly revocationListeners = new Set<(keyId: string) => void>();

  /** Told of each key revoked through this store (a cache in front of it forgets the key at once). */
  onRevoked(listener: (keyId: string) => void): void {
    this.revocationListeners.add(listener);
  }

  /** Revokes a key by id; false if there is no such active key. */
  async revoke(keyId: string): Promise<boolean> {
    const revoked = await this.markRevoked(keyId);
    for (const listener of this.revocationListeners) listener(keyId);
    return revoked;
  }

  async create(input: NewKey): Promise<{ key: string; record: ApiKeyRecord }> {
    if (input.role === 'member' && !input.userId) throw new Error('a member key needs --user <userId>');
    if (input.role !== 'member' && input.userId) throw new Error('only member keys are bound to a user');
    const keyId = randomBytes(6).toString('hex');
    const key = `${API_KEY_PREFIX}_${keyId}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
    const record: ApiKeyRecord = {
      keyId,
      role: input.role,
      accountId: input.accountId,
      userId: input.userId ?? null,
      createdAt: new Date().toISOString(),
      revokedAt: null,
    };
    await this.insert({ ...record, keyHash: hashKey(key) });
    return { key, record };
  }

  /** The principal for a presented key, or undefined for an unknown or revoked key. */
  async authenticate(presented: string, adminKey: string | undefined): Promise<Principal | undefined> {
    if (adminKey !== undefined && constantTimeEqual(presented, adminKey)) return { kind: 'superuser' };
    if (!presented.startsWith(`${API_KEY_PREFIX}_`)) return undefined;
    return principalOf(await this.findByHash(hashKey(presented)));
  }
}

export function principalOf(row: StoredKey | undefined): Principal | undefined {
  if (!row || row.revokedAt !== null) return undefined;
  return { kind: 'key', keyId: row.keyId, role: row.role, accountId: row.accountId, userId: row.userId };
}

export function constantTimeEqual(left: string, right: string): boolean {
  return timingSafeEqual(createHash('sha256').update(left).digest(), createHash('sha256').update(right).digest());
}
