import { Principal } from '@credit-ledger/domain';
import { ApiKeyStore, hashKey } from './api-key-store';

/**
 * How long an instance trusts what it looked up about a key (found, unknown or revoked). A key
 * revoked through any instance or the CLI is refused everywhere at most this long (plus one
 * lookup) later: the documented bound is 1 s.
 */
export const API_KEY_CACHE_TTL_MS = 500;
/** Keys remembered at most per instance (the oldest are dropped first). */
export const API_KEY_CACHE_MAX_ENTRIES = 10_000;

interface Entry {
  readonly principal: Promise<Principal | undefined>;
  readonly expiresAtMs: number;
}

/**
 * Authenticates through a short-lived cache in front of a shared key store, so that a busy
 * instance asks PostgreSQL about a key at most every API_KEY_CACHE_TTL_MS. A failed lookup
 * (database unreachable) is not remembered: the request answers 503 and the next one asks again.
 */
export class CachedAuthenticator {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly adminKey: string | undefined,
    private readonly ttlMs = API_KEY_CACHE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  authenticate(presented: string): Promise<Principal | undefined> {
    const at = this.now();
    const cacheKey = hashKey(presented); // never the key itself in memory longer than the request
    const hit = this.entries.get(cacheKey);
    if (hit && hit.expiresAtMs > at) return hit.principal;
    const principal = this.keys.authenticate(presented, this.adminKey);
    if (this.entries.size >= API_KEY_CACHE_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.delete(cacheKey); // re-inserted last: the map's order is the age order
    this.entries.set(cacheKey, { principal, expiresAtMs: at + this.ttlMs });
    principal.catch(() => {
      if (this.entries.get(cacheKey)?.principal === principal) this.entries.delete(cacheKey);
    });
    return principal;
  }
}
