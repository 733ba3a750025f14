import { LedgerCommand } from '@credit-ledger/domain';
import { ConcurrencyRetriesExhaustedError, WrongExpectedRevisionError } from '@credit-ledger/event-store';
import { AccountRepository, AccountSession } from './account-repository';
import { Clock } from './clock';
import { KeyedMutex } from './keyed-mutex';

/** Who asked, for the events' metadata. */
export interface Caller {
  readonly actor: string;
  readonly correlationId: string;
}

/** What a single-command handler answers: 201 for a new movement, 200 for an idempotent retry. */
export interface Outcome<B> {
  readonly status: 200 | 201;
  readonly body: B;
}

/** Attempts of read -> decide -> append when another writer moved the stream in between. */
export const MAX_APPEND_ATTEMPTS = 20;
/** Backoff before a retry: random in [0, min(cap, base * 2^attempt)) so competing writers spread out. */
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
  execute<R>(accountId: string, caller: Caller, work: (session: AccountSession, at: string) => () => R): Promise<R> {
    const at = this.clock.now().toISOString();
    const ctx = { actor: caller.actor, correlationId: caller.correlationId, recordedAt: at };
    return this.locks.run(accountId, async () => {
      for (let attempt = 1; ; attempt++) {
        // Writes trust the cache on the first attempt: a stale cache only costs a conflict and a reload.
        const session = (attempt === 1 && this.accounts.cached(accountId)) || (await this.accounts.load(accountId, attempt > 1));
        let answer: () => R;
        try {
          answer = work(session, at);
        } catch (e) {
          // A refusal before anything was decided leaves the session untouched; otherwise drop it.
          if (session.hasPending) this.accounts.evict(accountId);
          throw e;
        }
        try {
          await this.accounts.commit(session, ctx);
        } catch (e) {
          // The session holds state that was decided but not stored (evolve updates the account's
          // indexes in place, so it cannot be rolled back): drop it and read the stream afresh.
          this.accounts.evict(accountId);
          if (e instanceof WrongExpectedRevisionError) this.conflictCount++;
          if (e instanceof WrongExpectedRevisionError && attempt < MAX_APPEND_ATTEMPTS) {
            await new Promise((r) => setTimeout(r, Math.random() * Math.min(RETRY_BACKOFF_CAP_MS, RETRY_BACKOFF_BASE_MS * 2 ** attempt)));
            continue;
          }
          if (e instanceof WrongExpectedRevisionError) throw new ConcurrencyRetriesExhaustedError(accountId, MAX_APPEND_ATTEMPTS);
          throw e;
        }
        return answer();
      }
    });
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
