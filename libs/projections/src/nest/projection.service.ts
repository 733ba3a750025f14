import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CorruptEventError, EventStore, Subscription } from '../../../event-store/src';
import { EVENT_STORE, LEDGER_CONFIG, LedgerConfig } from '../../../ledger/src';
import { PoisonEventError, ProjectionRunner } from '../projection-runner';
import { ProjectionState, ReadModelStore } from '../read-model-store';

export const READ_MODEL_STORE = Symbol('READ_MODEL_STORE');
/** How long `?minPosition=` waits for the read models at most, and how often it looks. */
export const MAX_MIN_POSITION_WAIT_MS = 5_000;
const MIN_POSITION_POLL_MS = 10;

/** Runs the projections in this process (LEDGER_PROJECTIONS=inline) and answers questions about their progress. */
@Injectable()
export class ProjectionService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');
  private subscription: Subscription | undefined;
  private runner: ProjectionRunner | undefined;

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
    this.subscription = await this.runner.follow(this.store, (error, attempt, delayMs) => {
      // First failure and then every tenth: an outage is visible without flooding the log.
      if (attempt === 1 || attempt % 10 === 0) {
        this.logger.warn(`projections: reading the event log or writing the read models failed (${error instanceof Error ? error.message : String(error)}); attempt ${attempt}, next in ${delayMs} ms`);
      }
    });
    this.subscription.done.catch((e: unknown) => this.logger.error(`projections stopped: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** Before the store closes (onApplicationShutdown), so that a normal stop never looks like a failure. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
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
    const [head, position] = await Promise.all([this.store.headPosition(), this.position()]);
    return Math.max(0, head - position);
  }
}
