export const ROLES = ['admin', 'service', 'analyst', 'member'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who is calling, whatever the transport: the environment's superuser key, a stored key scoped to
 * one account, or a trusted process of the deployment itself (the Kafka ingestor, the billing job,
 * the operator CLI), which acts on every account under its own name.
 */
export type Principal =
  | { readonly kind: 'superuser' }
  | {
      readonly kind: 'key';
      readonly keyId: string;
      readonly role: Role;
      readonly accountId: string;
      /** Only for `member` keys: the team member the key speaks for. */
      readonly userId: string | null;
    }
  | { readonly kind: 'internal'; readonly name: string };

/** Who asked and in which conversation: becomes the events' actor and correlationId. */
export interface Caller {
  readonly principal: Principal;
  readonly actor: string;
  readonly correlationId: string;
}

export function actorOf(principal: Principal): string {
  switch (principal.kind) {
    case 'superuser':
      return 'superuser';
    case 'key':
      return `key:${principal.keyId}:${principal.role}`;
    case 'internal':
      return principal.name;
    default: {
      const unknownKind: never = principal;
      throw new Error(`unknown principal ${JSON.stringify(unknownKind)}`);
    }
  }
}

/** A caller for a trusted process of the deployment: its name is the events' actor. */
export function internalCaller(name: string, correlationId: string): Caller {
  const principal: Principal = { kind: 'internal', name };
  return { principal, actor: actorOf(principal), correlationId };
}

export function canAccessAccount(principal: Principal, accountId: string): boolean {
  return principal.kind !== 'key' || principal.accountId === accountId;
}
