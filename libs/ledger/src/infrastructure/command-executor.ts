import { Caller, DomainError, LedgerCommand } from '@credit-ledger/domain';
import { backoffMs, ConcurrencyRetriesExhaustedError, sleep, WrongExpectedRevisionError } from '@credit-ledger/event-store';
import { AccountRepository, AccountSession } from './account-repository';
import { Clock } from './clock';
import { CommandObserver } from './command-observer';
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

export { ConcurrencyRetriesExhaustedError };

/**
 * The command path: lock the account (in this process) -> load -> decide -> append with the
 * expected revision -> on a conflict (another process wrote) reload and decide again.
 * `work` decides on the session and returns how to answer once the events are durable.
 */
export class CommandExecutor {
  private readonly locks = new KeyedMutex();
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
    view: (session: AccountSession) => B,
  ): Promise<Outcome<B>> {
    return this.execute(accountId, caller, (session, at) => {
      const kind = session.decide(commandKey, command(at));
      return () => ({ status: kind === 'created' ? 201 : 200, body: view(session) });
    });
  }

  /** `work` decides on the session at instant `at` and returns how to answer once the events are durable. */
  execute<R>(accountId: string, caller: Caller, work: (session: AccountSession, at: string) => () => R, commandType = 'Unknown'): Promise<R> {
    const at = this.clock.now().toISOString();
    const ctx = { actor: caller.actor, correlationId: caller.correlationId, recordedAt: at };
    return this.locks.run(accountId, async () => {
      for (let attempt = 1; ; attempt++) {
        // Writes trust the cache on the first attempt: a stale cache only costs a conflict and a catch-up.
        const session = (attempt === 1 && this.accounts.cached(accountId)) || (await this.accounts.load(accountId, attempt > 1));
        session.takeOutcomes(); // anything left by an attempt that did not count
        const answer = this.decideOn(session, at, work, commandType);
        try {
          // A failed append rolls the session back to the stored state: it stays cached and consistent.
          await this.accounts.commit(session, ctx);
        } catch (error) {
          session.takeOutcomes(); // not stored: decided again on retry, or never
          if (!(error instanceof WrongExpectedRevisionError)) throw error;
          this.conflictCount++;
          this.observer?.conflicted();
          if (attempt >= MAX_APPEND_ATTEMPTS) {
            this.observer?.retriesExhausted();
            throw new ConcurrencyRetriesExhaustedError(accountId, MAX_APPEND_ATTEMPTS);
          }
          // Retry n waits up to base * 2^n, as this loop always did (backoffMs counts from 2^0).
          await sleep(backoffMs(attempt + 1, RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_CAP_MS));
          this.observer?.retried();
          continue;
        }
        this.observer?.decided(session.takeOutcomes());
        return answer();
      }
    });
  }

  /** Runs `work`; a refusal drops whatever it decided before refusing (nothing was stored). */
  private decideOn<R>(session: AccountSession, at: string, work: (session: AccountSession, at: string) => () => R, commandType: string): () => R {
    try {
      return work(session, at);
    } catch (error) {
      session.rollback();
      const outcomes = session.takeOutcomes();
      // A refusal of the handler itself (before any decision) counts under the command's type.
      if (error instanceof DomainError && !outcomes.some((outcome) => outcome.outcome === 'refused')) {
        outcomes.push({ type: commandType, outcome: 'refused', code: error.code });
      }
      this.observer?.decided(outcomes.filter((outcome) => outcome.outcome === 'refused'));
      throw error;
    }
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
