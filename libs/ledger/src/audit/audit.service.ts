import { Inject, Injectable } from '@nestjs/common';
import { EventStore, GENESIS_HASH, RecordedEvent } from '@credit-ledger/event-store';
import { LedgerConfig } from '../config/ledger-config';
import { Clock, LEDGER_CLOCK } from '../infrastructure/clock';
import { accountStream } from '../infrastructure/stream-names';
import { EVENT_STORE, LEDGER_CONFIG } from '../tokens';
import { AuditKeyring, AuditPublicKey } from './audit-keys';
import { SignedHead, signHead } from './audit-heads';

/** The format name in an export's first line. */
export const AUDIT_EXPORT_FORMAT = 'credit-ledger-audit-export/1';
/** Events read per page while exporting. */
export const AUDIT_EXPORT_PAGE_SIZE = 1_000;

/** One line of an export: its header, an event with its chain links, or the signed head that ends it. */
export type AuditExportLine =
  | { kind: 'export'; format: string; accountId: string; streamId: string; fromRevision: number; toRevision: number | null; exportedAt: string }
  | ({ kind: 'event' } & Omit<RecordedEvent, 'chain'> & { hash: string; previousAccountHash: string; previousGlobalHash: string | null })
  | ({ kind: 'head' } & SignedHead);

export class ChainUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChainUnavailableError';
  }
}

/** Signed heads, the global checkpoint, the public keys and account exports (docs/audit.md). */
@Injectable()
export class AuditService {
  private readonly keyring: AuditKeyring;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEDGER_CONFIG) config: LedgerConfig,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {
    this.keyring = config.audit ?? { keys: [] };
  }

  signingEnabled(): boolean {
    return this.keyring.signingKey !== undefined;
  }

  currentKeyId(): string | undefined {
    return this.keyring.keyId;
  }

  keys(): readonly AuditPublicKey[] {
    return this.keyring.keys;
  }

  /** The account's head, signed; undefined when the account has no events. */
  async accountHead(accountId: string): Promise<SignedHead | undefined> {
    const last = await lastEventOf(this.store, accountStream(accountId));
    return last && this.headOf(accountId, last);
  }

  /** The global chain's head, signed. */
  async checkpoint(): Promise<SignedHead> {
    const head = await this.store.headPosition();
    const [last] = head > 0 ? await this.store.readAll({ after: head - 1, limit: 1 }) : [];
    if (last && !last.chain?.previousGlobalHash) throw new ChainUnavailableError('this store keeps no global hash chain (see docs/audit.md)');
    return signHead(
      this.keyring,
      { scope: 'global', accountId: null, revision: null, position: last?.position ?? 0, hash: last?.chain?.hash ?? GENESIS_HASH },
      this.clock.now(),
    );
  }

  private headOf(accountId: string, last: RecordedEvent): SignedHead {
    if (!last.chain) throw new ChainUnavailableError('the events of this account carry no hashes yet (run `credit-ledger migrate`)');
    return signHead(this.keyring, { scope: 'account', accountId, revision: last.revision, position: last.position, hash: last.chain.hash }, this.clock.now());
  }

  /**
   * The account's events from `fromRevision` to `toRevision` (inclusive; default: to its end),
   * with their chain links, then the head signed at the last exported event.
   */
  async *exportAccount(accountId: string, fromRevision = 0, toRevision?: number): AsyncGenerator<AuditExportLine> {
    const streamId = accountStream(accountId);
    yield {
      kind: 'export',
      format: AUDIT_EXPORT_FORMAT,
      accountId,
      streamId,
      fromRevision,
      toRevision: toRevision ?? null,
      exportedAt: this.clock.now().toISOString(),
    };
    let last: RecordedEvent | undefined;
    for (let next = fromRevision; toRevision === undefined || next <= toRevision;) {
      const limit = toRevision === undefined ? AUDIT_EXPORT_PAGE_SIZE : Math.min(AUDIT_EXPORT_PAGE_SIZE, toRevision - next + 1);
      const page = await this.store.readStream(streamId, { fromRevision: next, limit });
      for (const event of page) {
        if (!event.chain) throw new ChainUnavailableError(`the event at revision ${event.revision} carries no hash yet (run \`credit-ledger migrate\`)`);
        const { chain, ...fields } = event;
        yield {
          kind: 'event',
          ...fields,
          hash: chain.hash,
          previousAccountHash: chain.previousAccountHash,
          previousGlobalHash: chain.previousGlobalHash ?? null,
        };
        last = event;
      }
      if (page.length < limit) break;
      next = page[page.length - 1].revision + 1;
    }
    if (last) yield { kind: 'head', ...this.headOf(accountId, last) };
  }

  /** Whether the account has any event (exports of unknown accounts are 404). */
  async exists(accountId: string): Promise<boolean> {
    return (await this.store.readStream(accountStream(accountId), { limit: 1 })).length > 0;
  }
}

/** The last event of a stream in O(log n) one-event reads (the port reads forwards only). */
export async function lastEventOf(store: EventStore, streamId: string): Promise<RecordedEvent | undefined> {
  const at = async (revision: number) => (await store.readStream(streamId, { fromRevision: revision, limit: 1 }))[0];
  let known = await at(0);
  if (!known) return undefined;
  let step = 1;
  // Gallop forward until a revision is past the end, then halve back.
  for (let probe = await at(known.revision + step); probe; probe = await at(known.revision + step)) {
    known = probe;
    step *= 2;
  }
  for (step = Math.floor(step / 2); step >= 1; step = Math.floor(step / 2)) {
    const probe = await at(known.revision + step);
    if (probe) known = probe;
  }
  return known;
}
