import { createContext, useContext } from 'react';
import type { paths } from '@credit-ledger/client';
import type { Api } from './api';

export type Role = 'superuser' | 'admin' | 'analyst' | 'member' | 'service';

export interface Me {
  readonly role: Role;
  readonly accountId: string | null;
  readonly userId: string | null;
  readonly keyId: string | null;
}

/** What every page of a signed-in console knows. */
export interface Session {
  readonly api: Api;
  readonly me: Me;
  /** The account on screen: the key's own, or the one the superuser picked (null: none yet). */
  readonly accountId: string | null;
  /** The query that keeps the superuser's account choice across pages (`account=`). */
  readonly accountQuery: URLSearchParams;
  readonly signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

/** What each role sees (the server enforces the same; the console only hides what would be refused). */
export function can(
  role: Role,
  what: 'teamFilter' | 'audit' | 'cycles' | 'keys' | 'alerts' | 'verify' | 'pickAccount' | 'byMember' | 'listMembers' | 'editLimits' | 'webhooks',
): boolean {
  switch (what) {
    case 'teamFilter':
    case 'byMember':
    case 'audit':
    case 'cycles':
    case 'alerts':
    case 'verify':
    case 'listMembers':
      return role === 'superuser' || role === 'admin' || role === 'analyst';
    case 'keys':
    case 'editLimits':
    case 'webhooks':
      return role === 'superuser' || role === 'admin';
    case 'pickAccount':
      return role === 'superuser';
    default: {
      const unknown: never = what;
      throw new Error(`unknown capability ${String(unknown)}`);
    }
  }
}

/** The JSON answer (200) of a GET operation of the API, from the generated client. */
export type GetAnswer<P extends keyof paths> = paths[P] extends { get: { responses: { 200: { content: { 'application/json': infer T } } } } } ? T : never;

export type AccountView = GetAnswer<'/v1/accounts/{accountId}'>;
