import { sign } from 'node:crypto';
import { canonicalJson } from '@credit-ledger/event-store';
import { AuditKeyring } from './audit-keys';

/**
 * A head: where a chain stood, signed. The signature is Ed25519 over the UTF-8 bytes of the
 * canonical JSON of every other field (docs/audit.md), base64.
 */
export interface SignedHead {
  readonly scope: 'account' | 'global';
  /** null for the global checkpoint. */
  readonly accountId: string | null;
  /** The account's last revision (null for the global checkpoint). */
  readonly revision: number | null;
  readonly position: number;
  readonly hash: string;
  /** null while signing is off (no LEDGER_AUDIT_SIGNING_KEY). */
  readonly signedAt: string | null;
  readonly signature: string | null;
  readonly keyId: string | null;
}

export function signHead(keyring: AuditKeyring, head: Omit<SignedHead, 'signedAt' | 'signature' | 'keyId'>, now: Date): SignedHead {
  if (!keyring.signingKey) return { ...head, signedAt: null, signature: null, keyId: null };
  const unsigned = { ...head, signedAt: now.toISOString(), keyId: keyring.keyId! };
  const signature = sign(null, Buffer.from(canonicalJson(unsigned), 'utf8'), keyring.signingKey).toString('base64');
  return { ...unsigned, signature };
}
