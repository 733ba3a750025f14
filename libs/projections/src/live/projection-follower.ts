import { backoffMs, CorruptEventError, LogReader, sleep, Subscription, SubscriptionFailedError } from '@credit-ledger/event-store';
import { PoisonEventError, ProjectionRunner } from '../projection-runner';

/** Pause before following the log again after the subscription failed (doubling, capped). */
export const FOLLOW_RESTART_INITIAL_DELAY_MS = 1_000;
export const FOLLOW_RESTART_MAX_DELAY_MS = 30_000;

/** Where a follower says what went wrong (the server's logger, or a message to it from a thread). */
export interface FollowerLogger {
  warn(message: string): void;
  error(message: string): void;
}

/** The read models kept up to date with the log, on the event loop or in a thread of their own. */
export interface LiveProjections {
  /** Catches up with the log (resolves then), and follows it from there until stopped. */
  start(): Promise<void>;
  /** Why the read models are not following the log right now (undefined while they are). */
  failure(): string | undefined;
  stop(): Promise<void>;
}

/**
 * Applies the log to the read models where it runs: catch-up, then a subscription that is started
 * again from the checkpoint after a pause when it ends on an error other than a poison event
 * (which the runner records in the registry, where /health reads it).
 */
export class ProjectionFollower implements LiveProjections {
  private subscription: Subscription | undefined;
  private following: Promise<void> | undefined;
  private followFailure: string | undefined;
  /** A stop ends the pause before following again at once. */
  private readonly wakers = new Set<() => void>();
  private stopping = false;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly runner: ProjectionRunner,
    private readonly log: LogReader,
    private readonly logger: FollowerLogger,
    /** Told each time `failure()` changes. */
    private readonly onFailureChanged: (failure: string | undefined) => void = () => undefined,
  ) {}

  start(): Promise<void> {
    this.starting ??= this.catchUpThenFollow();
    return this.starting;
  }

  private async catchUpThenFollow(): Promise<void> {
    try {
      await this.runner.catchUp(this.log, { shouldStop: () => this.stopping });
    } catch (e) {
      if (e instanceof CorruptEventError || e instanceof PoisonEventError) {
        // A poison event in the backlog: the read models stop there (state and /health say where);
        // the API still starts and takes commands.
        this.logger.error(`projections stopped: ${e.message}`);
        return;
      }
      // The store could not be read (e.g. the database is restarting): the subscription below
      // catches up from the same checkpoint and retries reads that may pass.
      this.logger.warn(`projections: catch-up interrupted (${e instanceof Error ? e.message : String(e)}); following from the checkpoint`);
    }
    if (!this.stopping) this.following = this.followUntilStopped();
  }

  failure(): string | undefined {
    return this.followFailure;
  }

  private setFailure(failure: string | undefined): void {
    if (failure === this.followFailure) return;
    this.followFailure = failure;
    this.onFailureChanged(failure);
  }

  /** /health reports the read models down while the subscription is away, even when the failure could not be written to their database. */
  private async followUntilStopped(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        this.subscription = await this.runner.follow(this.log, (error, retry, delayMs) => {
          // First failure and then every tenth: an outage is visible without flooding the log.
          if (retry === 1 || retry % 10 === 0) {
            this.logger.warn(
              `projections: reading the event log or writing the read models failed (${error instanceof Error ? error.message : String(error)}); attempt ${retry}, next in ${delayMs} ms`,
            );
          }
        });
        if (this.stopping) await this.subscription.stop();
        this.setFailure(undefined);
        await this.subscription.done;
        return;
      } catch (e) {
        if (this.stopping) return;
        const message = e instanceof Error ? e.message : String(e);
        this.setFailure(message);
        const cause = e instanceof SubscriptionFailedError ? e.cause : e;
        if (cause instanceof CorruptEventError || cause instanceof PoisonEventError) {
          this.logger.error(`projections stopped: ${message}`); // never skipped: an operator acts
          return;
        }
        const delayMs = backoffMs(attempt, FOLLOW_RESTART_INITIAL_DELAY_MS, FOLLOW_RESTART_MAX_DELAY_MS);
        this.logger.error(`projections stopped: ${message}; following again from the checkpoint in ${delayMs} ms`);
        await sleep(delayMs, this.wakers);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakers) wake();
    await this.starting;
    await this.subscription?.stop();
    await this.following;
  }
}
