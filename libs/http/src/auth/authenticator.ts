import { Principal } from '@credit-ledger/domain';

/** Resolves a presented API key to its principal (undefined: unknown or revoked); provided by the ledger. */
export interface ApiKeyAuthenticator {
  authenticate(key: string): Principal | undefined;
}

export const API_KEY_AUTHENTICATOR = Symbol('API_KEY_AUTHENTICATOR');
