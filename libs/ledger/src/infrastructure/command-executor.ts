import { Caller, DomainError, LedgerCommand } from '@credit-ledger/domain';
import { backoffMs, ConcurrencyRetriesExhaustedError, MAX_EVENTS_PER_APPEND, sleep, WrongExpectedRevisionError } from '@credit-ledger/event-store';
import { AccountRepository, AccountSession, AccountView } from './account-repository';
import { Clock } from './clock';
import { CommandObserver, CommandOutcome } from './command-observer';
import { CommandContext } from './event-codec';
import { KeyedMutex } from './keyed-mutex';

/** What a single-command handler answers: 201 for a new movement, 200 for an idempotent retry. */
export interface Outcome<B> {
  readonly status: 200 | 201;
  readonly body: B;
}

/** Attempts of read -> decide -> append when another writer moved the stream in between. */
export const MAX_APPEND_ATTEMPTS = 20;
/** Backoff before retry n (backoffMs, jittered up to min(cap, base * 2^n)) so competing writers spread out. */
export const RETRY_BACKOFF_BASE_MS = 2;
export const RETRY_BACKOFF_CAP_MS = 100;
/**
 * Commands of one account that share one append at most: those that queued while the account's
 * previous append was committing (a hot account). The append also stays within the store's
 * MAX_EVENTS_PER_APPEND; whatever does not fit goes into the next one.
 */
export const MAX_COMMANDS_PER_SHARED_APPEND = 500;

export { ConcurrencyRetriesExhaustedError };

/**
 * Decides on the session at instant `at`; returns how to answer once the events are durable, from
 * the state this work left (`decided`), not from what later commands of a shared append left.
 */
export type Work<R> = (session: AccountSession, at: string) => (decided: AccountView) => R;

/** One command waiting for its account. */
interface Ticket {
  readonly work: Work<unknown>;
  readonly at: string;
  readonly context: CommandContext;
  /** The command type a refusal of the handler itself (before any decision) counts under (metrics). */
  readonly commandType: string;
  /** Appends of this command refused on their expected revision so far. */
  conflicts: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** A ticket decided in the append being built: its answer, or its refusal, both given once the append settled. */
type Decided = ({ ticket: Ticket; answer: (decided: AccountView) => unknown; view: AccountView } | { ticket: Ticket; refusal: unknown }) & {
  /** How its commands ended, reported once the append settled durably (metrics). */
  readonly outcomes: readonly CommandOutcome[];
};

/** The commands of one account not yet taken by an append, and whether an append task is queued for them. */
interface AccountLine {
  readonly waiting: Ticket[];
  scheduled: boolean;
}

/**
 * The command path: lock the account (in this process) -> load -> decide -> append with the
 * expected revision -> on a conflict (another process wrote) reload and decide again.
 *
 * A hot account's commands share appends: while one append of the account commits, the commands
 * that arrive queue; the next append takes all of them (up to MAX_COMMANDS_PER_SHARED_APPEND),
 * decides each in arrival order on the state the previous one leaves (pending on top of the
 * stored state), and appends them in one atomic append with one expected revision. Every command
 * of that append (its answer, a duplicate, or a refusal decided on top of the others) is settled
 * only once the append settled: durable, so answered; failed, so each one fails with that error
 * (none acknowledged, the session back at the stored state); refused on its expected revision,
 * so all of them are decided again on the caught-up state. A refusal drops only its own
 * decisions, so it never leaks into the later commands' decisions.
 *
 * One append per account is in flight at a time, never two: were a second one sent on top of the
 * first, and the first refused because another process wrote, the second could land on the other
 * process's events with a decision taken on a state that never existed.
 */
export class CommandExecutor {
  private readonly locks = new KeyedMutex();
  private readonly lines = new Map<string, AccountLine>();
  /** Appends refused because another writer moved the stream first (each retried or refused). */
  private conflictCount = 0;

  constructor(
    private readonly accounts: AccountRepository,
    private readonly clock: Clock,
    /** Told how commands ended, of conflicts and retries (metrics); optional. */
    private readonly observer?: CommandObserver,
  ) {}

  /** One command with a client id: decide it, append it, answer with `view` (the same for a retry). */
  decideOne<B>(
    accountId: string,
    caller: Caller,
    commandKey: string,
    command: (at: string) => LedgerCommand,
    view: (decided: AccountView) => B,
  ): Promise<Outcome<B>> {
    return this.execute(accountId, caller, (session, at) => {
      const kind = session.decide(commandKey, command(at));
      return (decided) => ({ status: kind === 'created' ? 201 : 200, body: view(decided) });
    });
  }

  /** `work` decides on the session at instant `at` and returns how to answer once the events are durable. */
  execute<R>(accountId: string, caller: Caller, work: Work<R>, commandType = 'Unknown'): Promise<R> {
    const at = this.clock.now().toISOString();
    const context = { actor: caller.actor, correlationId: caller.correlationId, recordedAt: at };
    return new Promise<R>((resolve, reject) => {
      let line = this.lines.get(accountId);
      if (!line) this.lines.set(accountId, (line = { waiting: [], scheduled: false }));
      line.waiting.push({ work, at, context, commandType, conflicts: 0, resolve: resolve as (value: unknown) => void, reject });
      this.schedule(accountId, line);
    });
  }

  /** Queues one append task for the account's waiting commands (behind its running append and reads). */
  private schedule(accountId: string, line: AccountLine): void {
    if (line.scheduled) return;
    line.scheduled = true;
    this.locks.acquire(accountId, () => {
      line.scheduled = false;
      this.attempt(accountId, line, line.waiting.splice(0, MAX_COMMANDS_PER_SHARED_APPEND), 1);
    });
  }

  /** The append task is over: the next one for what queued meanwhile, then the account's lock goes on. */
  private finish(accountId: string, line: AccountLine): void {
    if (line.waiting.length > 0) this.schedule(accountId, line);
    else if (!line.scheduled) this.lines.delete(accountId);
    this.locks.release(accountId);
  }

  /**
   * Decides and appends `tickets`, deciding again on a conflict until each is settled. Callbacks,
   * not an async function: on the usual path (a cached account, no conflict) nothing but the
   * store's append and the callbacks chained on it stands between the decision and the answers.
   */
  private attempt(accountId: string, line: AccountLine, tickets: Ticket[], attempt: number): void {
    // Writes trust the cache on the first attempt: a stale cache only costs a conflict and a catch-up.
    const cached = attempt === 1 ? this.accounts.cached(accountId) : undefined;
    if (cached) return this.decideAndAppend(accountId, line, tickets, attempt, cached);
    this.accounts.load(accountId, attempt > 1).then(
      (session) => this.decideAndAppend(accountId, line, tickets, attempt, session),
      (error: unknown) => {
        tickets.forEach((ticket) => ticket.reject(error));
        this.finish(accountId, line);
      },
    );
  }

  private decideAndAppend(accountId: string, line: AccountLine, tickets: Ticket[], attempt: number, session: AccountSession): void {
    session.takeOutcomes(); // anything left by an attempt that did not count
    const { decided, left } = this.decideInOrder(session, tickets);
    line.waiting.unshift(...left); // did not fit this append: first in the next one
    const durable = () => {
      this.observer?.decided(decided.flatMap((entry) => entry.outcomes));
      decided.forEach(settle);
      this.finish(accountId, line);
    };
    let appended: Promise<void> | undefined;
    try {
      // A failed append rolls the session back to the stored state: it stays cached and consistent.
      appended = this.accounts.commit(session, decided[0]?.ticket.context);
    } catch (error) {
      return this.failed(accountId, line, decided, attempt, error);
    }
    if (appended === undefined) return durable(); // nothing to store: duplicates and refusals only
    appended.then(durable, (error: unknown) => this.failed(accountId, line, decided, attempt, error));
  }

  /** A failed append: on a conflict every command is decided again (after a backoff), otherwise each one fails with the error. */
  private failed(accountId: string, line: AccountLine, decided: readonly Decided[], attempt: number, error: unknown): void {
    if (!(error instanceof WrongExpectedRevisionError)) {
      decided.forEach(({ ticket }) => ticket.reject(error));
      return this.finish(accountId, line);
    }
    this.conflictCount++;
    this.observer?.conflicted();
    const tickets = this.retriable(accountId, decided);
    for (let retry = 0; retry < tickets.length; retry++) this.observer?.retried();
    if (tickets.length === 0) return this.finish(accountId, line);
    // Retry n waits up to base * 2^n, as this loop always did (backoffMs counts from 2^0).
    void sleep(backoffMs(attempt + 1, RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_CAP_MS)).then(() => this.attempt(accountId, line, tickets, attempt + 1));
  }

  /**
   * Runs each ticket's work in order on the session; a refusal drops that work's decisions only.
   * Tickets past the append's limits are handed back (`left`) undecided.
   */
  private decideInOrder(session: AccountSession, tickets: readonly Ticket[]): { decided: Decided[]; left: Ticket[] } {
    const decided: Decided[] = [];
    for (let index = 0; index < tickets.length; index++) {
      const ticket = tickets[index];
      const mark = session.mark();
      try {
        const answer = ticket.work(session, ticket.at);
        if (index > 0 && session.pendingEvents > MAX_EVENTS_PER_APPEND) {
          session.rollbackTo(mark);
          session.takeOutcomes(); // decided again in the next append
          return { decided, left: tickets.slice(index) };
        }
        session.stampSince(mark, ticket.context);
        decided.push({ ticket, answer, view: session.snapshot(), outcomes: session.takeOutcomes() });
      } catch (refusal) {
        session.rollbackTo(mark);
        const outcomes = session.takeOutcomes().filter((outcome) => outcome.outcome === 'refused');
        // A refusal of the handler itself (before any decision) counts under the command's type.
        if (refusal instanceof DomainError && outcomes.length === 0) outcomes.push({ type: ticket.commandType, outcome: 'refused', code: refusal.code });
        decided.push({ ticket, refusal, outcomes });
      }
    }
    return { decided, left: [] };
  }

  /** After a conflict: the tickets to decide again, those out of attempts refused. */
  private retriable(accountId: string, decided: readonly Decided[]): Ticket[] {
    const again: Ticket[] = [];
    for (const { ticket } of decided) {
      ticket.conflicts++;
      if (ticket.conflicts >= MAX_APPEND_ATTEMPTS) {
        this.observer?.retriesExhausted();
        ticket.reject(new ConcurrencyRetriesExhaustedError(accountId, MAX_APPEND_ATTEMPTS));
      } else again.push(ticket);
    }
    return again;
  }

  /** Expected-revision conflicts met so far (for tests and diagnostics). */
  conflicts(): number {
    return this.conflictCount;
  }

  /** Reads a consistent view: queued behind the account's writes, caught up with the store. */
  read<R>(accountId: string, query: (session: AccountSession) => R): Promise<R> {
    return this.locks.run(accountId, async () => query(await this.accounts.load(accountId, true)));
  }
}

/** Answers a ticket whose append is durable (or that needed none), or gives its refusal. */
function settle(entry: Decided): void {
  if ('refusal' in entry) return entry.ticket.reject(entry.refusal);
  try {
    entry.ticket.resolve(entry.answer(entry.view));
  } catch (error) {
    entry.ticket.reject(error);
  }
}
