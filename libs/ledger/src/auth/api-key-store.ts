import Database from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, SQLITE_BUSY_TIMEOUT_MS, SQLITE_FILE_NAME } from '@credit-ledger/event-store';
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

const MIGRATIONS = [
  `CREATE TABLE api_keys (
     key_id     TEXT PRIMARY KEY,
     key_hash   TEXT NOT NULL UNIQUE,
     role       TEXT NOT NULL,
     account_id TEXT NOT NULL,
     user_id    TEXT,
     created_at TEXT NOT NULL,
     revoked_at TEXT
   );
   CREATE INDEX api_keys_account ON api_keys (account_id);`,
];

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * How long an accepted key is trusted without looking it up again. A key revoked by this process
 * is refused at once; revoked by another process (the CLI, another instance), within this bound.
 */
export const API_KEY_CACHE_TTL_MS = 5_000;
/** Accepted keys remembered at most (least recently cached dropped first). Unknown keys are never cached. */
export const MAX_CACHED_API_KEYS = 10_000;

/**
 * API keys, stored as SHA-256 hashes (keys carry 256 bits of randomness, so a fast hash is the
 * right tool; a password KDF would only slow every request). The plain key is shown once.
 */
export class ApiKeyStore {
  private readonly byHash: Database.Statement;
  /** Accepted keys by hash, with the instant (ms) they must be looked up again. */
  private readonly accepted = new Map<string, { principal: Principal; until: number }>();

  static open(dataDir: string): ApiKeyStore {
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, SQLITE_FILE_NAME));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    return new ApiKeyStore(db);
  }

  constructor(
    private readonly db: Database.Database,
    private readonly nowMs: () => number = Date.now,
  ) {
    migrate(db, 'api_keys', MIGRATIONS);
    this.byHash = db.prepare('SELECT * FROM api_keys WHERE key_hash = ?');
  }

  create(input: { accountId: string; role: Role; userId?: string | null }): { key: string; record: ApiKeyRecord } {
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
    this.db
      .prepare('INSERT INTO api_keys (key_id, key_hash, role, account_id, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(keyId, hashKey(key), record.role, record.accountId, record.userId, record.createdAt);
    return { key, record };
  }

  /** Revokes a key by id; false if there is no such active key. */
  revoke(keyId: string): boolean {
    for (const [hash, entry] of this.accepted) if (entry.principal.kind === 'key' && entry.principal.keyId === keyId) this.accepted.delete(hash);
    return this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL').run(new Date().toISOString(), keyId).changes === 1;
  }

  list(accountId?: string): ApiKeyRecord[] {
    const rows = (
      accountId === undefined
        ? this.db.prepare('SELECT * FROM api_keys ORDER BY created_at').all()
        : this.db.prepare('SELECT * FROM api_keys WHERE account_id = ? ORDER BY created_at').all(accountId)
    ) as KeyRow[];
    return rows.map(toRecord);
  }

  /** The principal for a presented key, or undefined for an unknown or revoked key. */
  authenticate(presented: string, adminKey: string | undefined): Principal | undefined {
    if (adminKey !== undefined && constantTimeEqual(presented, adminKey)) return { kind: 'superuser' };
    if (!presented.startsWith(`${API_KEY_PREFIX}_`)) return undefined;
    const hash = hashKey(presented);
    const now = this.nowMs();
    const cached = this.accepted.get(hash);
    if (cached && cached.until > now) return cached.principal;
    this.accepted.delete(hash);
    const row = this.byHash.get(hash) as KeyRow | undefined;
    if (!row || row.revoked_at !== null) return undefined;
    const principal: Principal = { kind: 'key', keyId: row.key_id, role: row.role, accountId: row.account_id, userId: row.user_id };
    this.accepted.set(hash, { principal, until: now + API_KEY_CACHE_TTL_MS });
    if (this.accepted.size > MAX_CACHED_API_KEYS) this.accepted.delete(this.accepted.keys().next().value as string);
    return principal;
  }

  close(): void {
    this.db.close();
  }
}

interface KeyRow {
  key_id: string;
  key_hash: string;
  role: Role;
  account_id: string;
  user_id: string | null;
  created_at: string;
  revoked_at: string | null;
}

function toRecord(r: KeyRow): ApiKeyRecord {
  return { keyId: r.key_id, role: r.role, accountId: r.account_id, userId: r.user_id, createdAt: r.created_at, revokedAt: r.revoked_at };
}

function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
