import { AccountState, decide, evolve, initialState, LedgerCommand, LedgerEvent } from '@credit-ledger/domain';
import { EventStore, MAX_READ_PAGE_SIZE, NO_STREAM } from '@credit-ledger/event-store';
import { accountStream } from './stream-names';
import { CommandContext, decodeEvent, encodeEvents } from './event-codec';

/** Accounts kept folded in memory at most (least recently used are dropped and re-read on demand). */
export const MAX_CACHED_ACCOUNTS = 50_000;

/**
 * One account folded from its stream: the state, the stream revision it reflects, and the global
 * position of each command's last event (to answer an idempotent retry with the first outcome).
 */
export class AccountSession {
  private pending: { commandKey: string; events: readonly LedgerEvent[] }[] = [];

  constructor(
    readonly accountId: string,
    public state: AccountState,
    public revision: number,
    readonly positions: Map<string, number>,
  ) {}

  /** decide, then evolve this session's state; the events are appended by the executor. */
  decide(commandKey: string, command: LedgerCommand): 'created' | 'duplicate' {
    const decision = decide(command, this.state);
    if (decision.kind === 'duplicate') return 'duplicate';
    for (const e of decision.events) this.state = evolve(this.state, e);
    this.pending.push({ commandKey, events: decision.events });
    return 'created';
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  takePending(): { commandKey: string; events: readonly LedgerEvent[] }[] {
    const p = this.pending;
    this.pending = [];
    return p;
  }

  positionOf(commandKey: string): number {
    return this.positions.get(commandKey) ?? 0;
  }
}

export class AccountRepository {
  private readonly cache = new Map<string, AccountSession>();

  constructor(
    private readonly store: EventStore,
    private readonly maxCached = MAX_CACHED_ACCOUNTS,
  ) {}

  /**
   * The account as of its newest stored event. `fresh=false` trusts the cache: fine for writes,
   * whose expected revision catches a stale cache; reads pass `fresh=true`.
   */
  /** The cached session, if any (no I/O): the fast path of writes. */
  cached(accountId: string): AccountSession | undefined {
    const session = this.cache.get(accountId);
    if (session) {
      this.cache.delete(accountId); // LRU: move to the newest end
      this.cache.set(accountId, session);
    }
    return session;
  }

  async load(accountId: string, fresh: boolean): Promise<AccountSession> {
    let session = this.cache.get(accountId);
    if (session) {
      this.cache.delete(accountId); // LRU: move to the newest end
      this.cache.set(accountId, session);
      if (!fresh) return session;
    } else {
      session = new AccountSession(accountId, initialState(), NO_STREAM, new Map());
    }
    await this.catchUp(session);
    if (session.revision === NO_STREAM) return session; // never cache accounts that do not exist
    this.remember(session);
    return session;
  }

  private async catchUp(session: AccountSession): Promise<void> {
    const stream = accountStream(session.accountId);
    for (;;) {
      const page = await this.store.readStream(stream, { fromRevision: session.revision + 1, limit: MAX_READ_PAGE_SIZE });
      for (const recorded of page) {
        session.state = evolve(session.state, decodeEvent(recorded));
        session.positions.set(recorded.metadata.causationId, recorded.position);
        session.revision = recorded.revision;
      }
      if (page.length < MAX_READ_PAGE_SIZE) return;
    }
  }

  private remember(session: AccountSession): void {
    this.cache.set(session.accountId, session);
    if (this.cache.size > this.maxCached) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }

  evict(accountId: string): void {
    this.cache.delete(accountId);
  }

  /** Appends what the session decided, with the revision it was decided on. */
  async commit(session: AccountSession, ctx: CommandContext): Promise<void> {
    const pending = session.takePending();
    if (pending.length === 0) return;
    const stream = accountStream(session.accountId);
    const toAppend = pending.flatMap((p) => encodeEvents(p.commandKey, p.events, ctx));
    const result = await this.store.append(stream, session.revision, toAppend);
    let i = 0;
    for (const p of pending) {
      i += p.events.length;
      session.positions.set(p.commandKey, result.positions[i - 1]);
    }
    session.revision = result.nextExpectedRevision;
    this.remember(session);
  }
}
