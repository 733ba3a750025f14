import { Principal } from '@credit-ledger/domain';

/**
 * Resolves a presented API key to its principal (undefined: unknown or revoked); provided by the
 * ledger. May answer later (a shared key store); an error that may pass answers 503.
 */
export interface ApiKeyAuthenticator {
  authenticate(key: string): Principal | undefined | Promise<Principal | undefined>;
}

export const API_KEY_AUTHENTICATOR = Symbol('API_KEY_AUTHENTICATOR');
