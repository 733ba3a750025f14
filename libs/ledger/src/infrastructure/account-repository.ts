import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AccountState, DomainError, LedgerCommand, LedgerDecider, ledgerDecider, LedgerEvent } from '@credit-ledger/domain';
import { AppendResult, EventStore, NO_STREAM, readAhead, RecordedEvent } from '@credit-ledger/event-store';
import { accountStream } from './stream-names';
import { CommandContext, decodeEvent, encodeEvents } from './event-codec';
import { CommandOutcome } from './command-observer';

/** Accounts kept folded in memory at most (least recently used are dropped and re-read on demand). */
export const MAX_CACHED_ACCOUNTS = 50_000;
/** Events a catch-up applies between two yields to the event loop. */
export const FOLD_CHUNK_EVENTS = 1_000;
/**
 * Events per read of a catch-up. A page is decoded in one go when it arrives, so a smaller page
 * holds the event loop for less; the next one is read meanwhile.
 */
export const CATCH_UP_PAGE_EVENTS = 2_000;

interface PendingCommand {
  readonly commandKey: string;
  readonly events: readonly LedgerEvent[];
  /** Who decided it (set by the executor when commands of several callers share one append). */
  context?: CommandContext;
}

/** What an answer is built from: the state a command left and the positions of stored commands. */
export interface AccountView {
  readonly accountId: string;
  readonly state: AccountState;
  positionOf(commandKey: string): number;
}

/** A point in the pending decisions to come back to (see `AccountSession.rollbackTo`). */
export interface SessionMark {
  readonly pendingCount: number;
  readonly pendingEvents: number;
  readonly state: AccountState;
}

/**
 * One account folded from its stream: the state, the stream revision it reflects, and the global
 * position of each command's last event (to answer an idempotent retry with the first outcome).
 *
 * Decisions are held as pending on top of the stored state until the repository appends them:
 * `state` includes them (so a batch decides each item on what the earlier ones left), and
 * `rollback` returns to the stored state. evolve is pure, so that is just keeping the old value.
 */
export class AccountSession implements AccountView {
  private pending: PendingCommand[] = [];
  /** How each command decided on this session ended, until the executor takes them (metrics). */
  private outcomes: CommandOutcome[] = [];
  private pendingEventCount = 0;
  /** The state as stored, at `revision`; `state` differs from it only while decisions are pending. */
  private storedState: AccountState;
  /** When this process last knew the session to be in step with the store (a catch-up or an append of its own), epoch ms. */
  syncedAtMs = 0;

  constructor(
    readonly accountId: string,
    state: AccountState,
    public revision: number,
    readonly positions: Map<string, number>,
    private readonly decider: LedgerDecider = ledgerDecider,
  ) {
    this.storedState = state;
    this.state = state;
  }

  /** The state with the pending decisions applied. */
  state: AccountState;

  /** The state as stored (without pending decisions): what is durable. */
  get stored(): AccountState {
    return this.storedState;
  }

  /** decide, then evolve this session's state; the events are appended by the repository. */
  decide(commandKey: string, command: LedgerCommand): 'created' | 'duplicate' {
    let decision: ReturnType<LedgerDecider['decide']>;
    try {
      decision = this.decider.decide(command, this.state);
    } catch (error) {
      if (error instanceof DomainError) this.outcomes.push({ type: command.type, outcome: 'refused', code: error.code });
      throw error;
    }
    this.outcomes.push({ type: command.type, outcome: decision.kind === 'duplicate' ? 'duplicate' : 'accepted' });
    if (decision.kind === 'duplicate') return 'duplicate';
    // A decider that folded its events to decide hands the state after them over (see Decision).
    this.state = decision.state ?? decision.events.reduce(this.decider.evolve, this.state);
    this.pending.push({ commandKey, events: decision.events });
    this.pendingEventCount += decision.events.length;
    return 'created';
  }

  /** The outcomes recorded since the last call (the executor reports those of the attempt that counted). */
  takeOutcomes(): CommandOutcome[] {
    const taken = this.outcomes;
    this.outcomes = [];
    return taken;
  }

  /** Events decided and not yet stored. */
  get pendingEvents(): number {
    return this.pendingEventCount;
  }

  mark(): SessionMark {
    return { pendingCount: this.pending.length, pendingEvents: this.pendingEventCount, state: this.state };
  }

  /** Drops the decisions taken since `mark` (a refusal, or a command left for the next append); earlier ones stay pending. */
  rollbackTo(mark: SessionMark): void {
    this.pending.length = mark.pendingCount;
    this.pendingEventCount = mark.pendingEvents;
    this.state = mark.state;
  }

  /** Records who decided the commands pending since `mark`. */
  stampSince(mark: SessionMark, context: CommandContext): void {
    for (let index = mark.pendingCount; index < this.pending.length; index++) this.pending[index].context = context;
  }

  /** The state as it is now, frozen for an answer built later (positions are read when answering). */
  snapshot(): AccountView {
    const state = this.state;
    return { accountId: this.accountId, state, positionOf: (commandKey) => this.positionOf(commandKey) };
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  get pendingCommands(): readonly PendingCommand[] {
    return this.pending;
  }

  /** Drops the pending decisions: the session is again exactly what is stored. */
  rollback(): void {
    this.pending = [];
    this.pendingEventCount = 0;
    this.state = this.storedState;
  }

  /** The pending decisions are stored, the last one's events ending at `revision`. */
  committed(revision: number, positions: readonly number[]): void {
    let eventCount = 0;
    for (const command of this.pending) {
      eventCount += command.events.length;
      this.positions.set(command.commandKey, positions[eventCount - 1]);
    }
    this.pending = [];
    this.pendingEventCount = 0;
    this.storedState = this.state;
    this.revision = revision;
  }

  /** Applies an event read from the stream (never while decisions are pending). */
  applyStored(recorded: RecordedEvent): void {
    if (this.hasPending) throw new Error(`account ${this.accountId}: catching up with decisions pending`);
    this.state = this.storedState = this.decider.evolve(this.storedState, decodeEvent(recorded));
    this.positions.set(recorded.metadata.causationId, recorded.position);
    this.revision = recorded.revision;
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
    private readonly decider: LedgerDecider = ledgerDecider,
  ) {}

  /** The cached session, if any (no I/O): the fast path of writes. */
  cached(accountId: string): AccountSession | undefined {
    const session = this.cache.get(accountId);
    if (session) {
      this.cache.delete(accountId); // LRU: move to the newest end
      this.cache.set(accountId, session);
    }
    return session;
  }

  /**
   * The account as of its newest stored event. `fresh=false` trusts the cache: fine for writes,
   * whose expected revision catches a stale cache; reads pass `fresh=true`.
   */
  async load(accountId: string, fresh: boolean): Promise<AccountSession> {
    const cached = this.cached(accountId);
    if (cached && !fresh) return cached;
    const session = cached ?? new AccountSession(accountId, this.decider.initialState(), NO_STREAM, new Map(), this.decider);
    session.rollback(); // a load starts from what is stored
    const startedAtMs = Date.now();
    await this.catchUp(session);
    session.syncedAtMs = startedAtMs;
    if (session.revision === NO_STREAM) return session; // never cache accounts that do not exist
    this.remember(session);
    return session;
  }

  /**
   * The stored state of a cached account known to be in step with the store within `maxAgeMs`,
   * without I/O; undefined when the account is not cached or may have moved since (another process).
   */
  recentStored(accountId: string, maxAgeMs: number, nowMs = Date.now()): AccountState | undefined {
    const session = this.cache.get(accountId);
    if (!session || nowMs - session.syncedAtMs > maxAgeMs) return undefined;
    return session.stored;
  }

  /**
   * Applies the stream's events after the session's revision, the next page read while the
   * current one is folded (readAhead).
   */
  private async catchUp(session: AccountSession): Promise<void> {
    const stream = accountStream(session.accountId);
    const pages = readAhead(
      session.revision + 1,
      (fromRevision: number) => this.store.readStream(stream, { fromRevision, limit: CATCH_UP_PAGE_EVENTS }),
      // Revisions are contiguous and the stream only grows: the next page starts right after a full one.
      (page) => (page.length === CATCH_UP_PAGE_EVENTS ? page[page.length - 1].revision + 1 : undefined),
    );
    let afterAnotherPage = false;
    for await (const page of pages) {
      await this.fold(session, page, afterAnotherPage);
      afterAnotherPage = true;
    }
  }

  /** Applies a page in chunks, yielding between them: a large account's first load must not hold every other request. */
  private async fold(session: AccountSession, page: readonly RecordedEvent[], afterAnotherPage: boolean): Promise<void> {
    for (let start = 0; start < page.length; start += FOLD_CHUNK_EVENTS) {
      if (start > 0 || afterAnotherPage) await yieldToEventLoop();
      const end = Math.min(page.length, start + FOLD_CHUNK_EVENTS);
      for (let index = start; index < end; index++) session.applyStored(page[index]);
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

  /**
   * Appends what the session decided, with the revision it was decided on, in one atomic append
   * (each command with the context it was decided in, `ctx` otherwise); undefined when nothing is
   * pending. If the append fails the session is rolled back to the stored state, so it stays
   * consistent (and cached). Not an async function: it sits on every command's path.
   */
  commit(session: AccountSession, ctx?: CommandContext): Promise<void> | undefined {
    const pending = session.pendingCommands;
    if (pending.length === 0) return undefined;
    const startedAtMs = Date.now();
    let appended: Promise<AppendResult>;
    try {
      const toAppend = pending.flatMap((command) => {
        const context = command.context ?? ctx;
        if (!context) throw new Error(`account ${session.accountId}: command ${command.commandKey} has no context to record`);
        return encodeEvents(command.commandKey, command.events, context);
      });
      appended = this.store.append(accountStream(session.accountId), session.revision, toAppend);
    } catch (error) {
      session.rollback();
      return Promise.reject(error);
    }
    return appended.then(
      (result) => {
        session.committed(result.nextExpectedRevision, result.positions);
        // The append matched the expected revision: the stream was exactly this session when it was sent.
        session.syncedAtMs = startedAtMs;
        this.remember(session);
      },
      (error: unknown) => {
        session.rollback();
        throw error;
      },
    );
  }
}
