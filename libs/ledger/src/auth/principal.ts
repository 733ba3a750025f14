export const ROLES = ['admin', 'service', 'analyst', 'member'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the environment's superuser key, or a stored key scoped to one account. */
export type Principal =
  | { readonly kind: 'superuser' }
  | {
      readonly kind: 'key';
      readonly keyId: string;
      readonly role: Role;
      readonly accountId: string;
      /** Only for `member` keys: the team member the key speaks for. */
      readonly userId: string | null;
    };

export function actorOf(p: Principal): string {
  return p.kind === 'superuser' ? 'superuser' : `key:${p.keyId}:${p.role}`;
}

export function canAccessAccount(p: Principal, accountId: string): boolean {
  return p.kind === 'superuser' || p.accountId === accountId;
}
