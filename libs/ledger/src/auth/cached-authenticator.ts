import { timingSafeEqual } from 'node:crypto';
import { Principal } from '@credit-ledger/domain';
import { ApiKeyStore, hashKey } from './api-key-store';

/**
 * How long an instance trusts an accepted key without looking it up again. A key revoked through
 * this process's store is refused at once; revoked through another instance or the CLI, at most
 * this long (plus one lookup) later. The documented bound is 1 s.
 */
export const API_KEY_CACHE_TTL_MS = 500;
/** Accepted keys remembered at most per instance (the least recently cached are dropped first). Unknown keys are never cached. */
export const MAX_CACHED_API_KEYS = 10_000;

/**
 * Authenticates through a short-lived cache of accepted keys in front of the key store, so that a
 * busy instance looks a key up at most every API_KEY_CACHE_TTL_MS (concurrent lookups of one key
 * share one query). Unknown and revoked keys are looked up every time; a failed lookup (database
 * unreachable) is not remembered: the request answers 503 and the next one asks again.
 */
export class CachedAuthenticator {
  private readonly accepted = new Map<string, { principal: Principal; untilMs: number }>();
  private readonly inFlight = new Map<string, Promise<Principal | undefined>>();
  /** The superuser key's hash, computed once: a request hashes the presented key once, not three times. */
  private readonly adminKeyHash: Buffer | undefined;

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly adminKey: string | undefined,
    private readonly ttlMs = API_KEY_CACHE_TTL_MS,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.adminKeyHash = adminKey === undefined ? undefined : Buffer.from(hashKey(adminKey), 'hex');
    keys.onRevoked((keyId) => {
      for (const [hash, entry] of this.accepted) if (entry.principal.kind === 'key' && entry.principal.keyId === keyId) this.accepted.delete(hash);
    });
  }

  authenticate(presented: string): Promise<Principal | undefined> {
    const hash = hashKey(presented); // never the key itself in memory longer than the request
    if (this.adminKeyHash !== undefined && timingSafeEqual(Buffer.from(hash, 'hex'), this.adminKeyHash)) return Promise.resolve({ kind: 'superuser' });
    const cached = this.accepted.get(hash);
    if (cached && cached.untilMs > this.nowMs()) return Promise.resolve(cached.principal);
    this.accepted.delete(hash);
    const pending = this.inFlight.get(hash);
    if (pending) return pending;
    const lookup = this.keys.authenticate(presented, this.adminKey).then(
      (principal) => {
        this.inFlight.delete(hash);
        if (principal?.kind === 'key') {
          this.accepted.set(hash, { principal, untilMs: this.nowMs() + this.ttlMs });
          if (this.accepted.size > MAX_CACHED_API_KEYS) this.accepted.delete(this.accepted.keys().next().value as string);
        }
        return principal;
      },
      (error: unknown) => {
        this.inFlight.delete(hash);
        throw error;
      },
    );
    this.inFlight.set(hash, lookup);
    return lookup;
  }
}
