import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { backoffMs, CorruptEventError, EventStore, sleep, Subscription, SubscriptionFailedError } from '@credit-ledger/event-store';
import { EVENT_STORE, LEDGER_CONFIG, LedgerConfig } from '@credit-ledger/ledger';
import { PoisonEventError, ProjectionRunner } from '../projection-runner';
import { ProjectionState, ReadModelStore } from '../read-model-store';

export const READ_MODEL_STORE = Symbol('READ_MODEL_STORE');
/** How long `?minPosition=` waits for the read models at most, and how often it looks. */
export const MAX_MIN_POSITION_WAIT_MS = 5_000;
const MIN_POSITION_POLL_MS = 10;
/** Pause before following the log again after the subscription failed (doubling, capped). */
export const FOLLOW_RESTART_INITIAL_DELAY_MS = 1_000;
export const FOLLOW_RESTART_MAX_DELAY_MS = 30_000;

/** Runs the projections in this process (LEDGER_PROJECTIONS=inline) and answers questions about their progress. */
@Injectable()
export class ProjectionService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');
  private subscription: Subscription | undefined;
  private runner: ProjectionRunner | undefined;
  private following: Promise<void> | undefined;
  private followFailure: string | undefined;
  /** A shutdown ends the pause before following again at once. */
  private readonly wakers = new Set<() => void>();
  private stopping = false;

  constructor(
    @Inject(READ_MODEL_STORE) readonly readModels: ReadModelStore,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.runner = await ProjectionRunner.create(this.readModels);
    if (this.config.projections !== 'inline') return;
    try {
      await this.runner.catchUp(this.store);
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
    this.following = this.followUntilStopped(this.runner);
  }

  /**
   * Follows the log; a subscription that ends on an error other than a poison event (which the
   * runner records in the registry, where /health reads it) is started again from the checkpoint
   * after a pause, and /health reports it down meanwhile — even when the failure could not be
   * written to the read models' database.
   */
  private async followUntilStopped(runner: ProjectionRunner): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        this.subscription = await runner.follow(this.store, (error, retry, delayMs) => {
          // First failure and then every tenth: an outage is visible without flooding the log.
          if (retry === 1 || retry % 10 === 0) {
            this.logger.warn(
              `projections: reading the event log or writing the read models failed (${error instanceof Error ? error.message : String(error)}); attempt ${retry}, next in ${delayMs} ms`,
            );
          }
        });
        if (this.stopping) await this.subscription.stop();
        this.followFailure = undefined;
        await this.subscription.done;
        return;
      } catch (e) {
        if (this.stopping) return;
        const message = e instanceof Error ? e.message : String(e);
        this.followFailure = message;
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

  /** Why the projections are not following the log right now (undefined while they are). */
  followingFailure(): string | undefined {
    return this.followFailure;
  }

  /** Before the store closes (onApplicationShutdown), so that a normal stop never looks like a failure. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakers) wake();
    await this.subscription?.stop();
    await this.following;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.readModels.close();
  }

  position(): Promise<number> {
    return this.readModels.position();
  }

  states(): Promise<ProjectionState[]> {
    return this.readModels.states();
  }

  /** Resolves true once every read model reached `position`, false after MAX_MIN_POSITION_WAIT_MS. */
  async waitFor(position: number): Promise<boolean> {
    const deadline = Date.now() + MAX_MIN_POSITION_WAIT_MS;
    while ((await this.position()) < position) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, MIN_POSITION_POLL_MS));
    }
    return true;
  }

  async lag(): Promise<number> {
    return (await this.progress()).lag;
  }

  /** Where the read models are and how far behind the log's head, from one read of each. */
  async progress(): Promise<{ position: number; lag: number }> {
    const [head, position] = await Promise.all([this.store.headPosition(), this.position()]);
    return { position, lag: Math.max(0, head - position) };
  }
}
