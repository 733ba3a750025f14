import { KeyObject, createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/** A public key heads may have been signed with, and when it signed. */
export interface AuditPublicKey {
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
  /** SPKI PEM. */
  readonly publicKey: string;
  /** ISO instant from which it signs (null: not recorded). */
  readonly validFrom: string | null;
  /** ISO instant it stopped signing (null: the current key). */
  readonly validUntil: string | null;
  readonly current: boolean;
}

export interface AuditKeyring {
  /** The current signing key; absent = signing off. */
  readonly signingKey?: KeyObject;
  readonly keyId?: string;
  /** The current key first, then the retired ones, newest first. */
  readonly keys: readonly AuditPublicKey[];
}

/** keyId = "ed25519:" + the first 16 hex digits of SHA-256 over the public key's SPKI DER. */
export function auditKeyId(publicKey: KeyObject): string {
  return `ed25519:${createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16)}`;
}

function pemOrFile(value: string): string {
  return value.trimStart().startsWith('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

/**
 * Reads the audit keys from the environment: LEDGER_AUDIT_SIGNING_KEY (an Ed25519 private key,
 * PEM text or the path of a PEM file), LEDGER_AUDIT_SIGNING_KEY_SINCE (when it started signing),
 * LEDGER_AUDIT_RETIRED_KEYS (a JSON file of the keys it replaced: [{publicKey, validFrom,
 * validUntil}]). Every problem is pushed to `problems` (the server then refuses to start).
 */
export function loadAuditKeyring(env: NodeJS.ProcessEnv, problems: string[]): AuditKeyring {
  const keys: AuditPublicKey[] = [];
  let signingKey: KeyObject | undefined;
  const keyText = env.LEDGER_AUDIT_SIGNING_KEY?.trim();
  const since = env.LEDGER_AUDIT_SIGNING_KEY_SINCE?.trim() || null;
  if (since !== null && Number.isNaN(Date.parse(since))) problems.push(`LEDGER_AUDIT_SIGNING_KEY_SINCE must be an ISO instant, got "${since}"`);
  if (keyText) {
    try {
      if (!keyText.startsWith('-----BEGIN') && !existsSync(keyText)) throw new Error(`no such file ${keyText}`);
      signingKey = createPrivateKey(pemOrFile(keyText));
      if (signingKey.asymmetricKeyType !== 'ed25519') throw new Error(`an ${signingKey.asymmetricKeyType} key, not Ed25519`);
      const publicKey = createPublicKey(signingKey);
      keys.push({
        keyId: auditKeyId(publicKey),
        algorithm: 'Ed25519',
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        validFrom: since,
        validUntil: null,
        current: true,
      });
    } catch (error) {
      signingKey = undefined;
      problems.push(
        `LEDGER_AUDIT_SIGNING_KEY must be an Ed25519 private key (PEM, or the path of a PEM file): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const retiredFile = env.LEDGER_AUDIT_RETIRED_KEYS?.trim();
  if (retiredFile) keys.push(...loadRetiredKeys(retiredFile, problems));
  return { signingKey, keyId: signingKey ? keys[0].keyId : undefined, keys };
}

function loadRetiredKeys(file: string, problems: string[]): AuditPublicKey[] {
  try {
    const entries = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!Array.isArray(entries)) throw new Error('expected a JSON array');
    return entries
      .map((entry: { publicKey?: unknown; validFrom?: unknown; validUntil?: unknown }, index) => {
        if (typeof entry?.publicKey !== 'string') throw new Error(`entry ${index}: publicKey must be a PEM string`);
        if (typeof entry.validUntil !== 'string' || Number.isNaN(Date.parse(entry.validUntil)))
          throw new Error(`entry ${index}: validUntil must be an ISO instant`);
        if (entry.validFrom != null && (typeof entry.validFrom !== 'string' || Number.isNaN(Date.parse(entry.validFrom))))
          throw new Error(`entry ${index}: validFrom must be an ISO instant or null`);
        const publicKey = createPublicKey(entry.publicKey);
        if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`entry ${index}: not an Ed25519 key`);
        return {
          keyId: auditKeyId(publicKey),
          algorithm: 'Ed25519' as const,
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          validFrom: (entry.validFrom as string | null | undefined) ?? null,
          validUntil: entry.validUntil,
          current: false,
        };
      })
      .sort((left, right) => right.validUntil!.localeCompare(left.validUntil!));
  } catch (error) {
    problems.push(
      `LEDGER_AUDIT_RETIRED_KEYS must name a JSON file of [{publicKey, validFrom, validUntil}]: ${error instanceof Error ? error.message : String(error)}`,
    );
    return [];
  }
}
