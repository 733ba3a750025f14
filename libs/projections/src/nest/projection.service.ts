import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { dirname } from 'node:path';
import { EventStore, SqliteEventStore } from '@credit-ledger/event-store';
import { EVENT_STORE, LEDGER_CONFIG, LedgerConfig } from '@credit-ledger/ledger';
import { LiveProjections, ProjectionFollower } from '../live/projection-follower';
import { ProjectionThread } from '../live/projection-thread';
import { ProjectionRunner } from '../projection-runner';
import { positionOf, ProjectionState, ReadModelStore } from '../read-model-store';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';

export const READ_MODEL_STORE = Symbol('READ_MODEL_STORE');
/** How long `?minPosition=` waits for the read models at most, and how often it looks. */
export const MAX_MIN_POSITION_WAIT_MS = 5_000;
const MIN_POSITION_POLL_MS = 10;

/**
 * Runs the projections in this process (LEDGER_PROJECTIONS=inline) and answers questions about
 * their progress. On the embedded store they run in a thread of their own (unless
 * LEDGER_PROJECTIONS_THREAD=false); on the others, on the event loop (their writes wait on a server).
 */
@Injectable()
export class ProjectionService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');
  private live: LiveProjections | undefined;

  constructor(
    @Inject(READ_MODEL_STORE) readonly readModels: ReadModelStore,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Here first: the tables exist before the first query, wherever the projections run.
    const runner = await ProjectionRunner.create(this.readModels);
    if (this.config.projections !== 'inline') return;
    const logger = { warn: (message: string) => this.logger.warn(message), error: (message: string) => this.logger.error(message) };
    const { store, readModels } = this;
    this.live =
      this.config.projectionsThread !== false && store instanceof SqliteEventStore && readModels instanceof SqliteReadModelStore && !readModels.db.memory
        ? new ProjectionThread(store, { eventsFile: store.file, dataDir: dirname(readModels.db.name) }, logger)
        : new ProjectionFollower(runner, store, logger);
    await this.live.start();
  }

  /** Why the projections are not following the log right now (undefined while they are). */
  followingFailure(): string | undefined {
    return this.live?.failure();
  }

  /** Before the store closes (onApplicationShutdown), so that a normal stop never looks like a failure. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.live?.stop();
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

  /** How far the read models are behind the log's head. */
  async lag(): Promise<number> {
    return (await this.health()).lag;
  }

  /** The read models' states, and their position and lag, from one read of the registry and one of the log's head (what /health reports). */
  async health(): Promise<{ states: ProjectionState[]; position: number; lag: number }> {
    const [head, states] = await Promise.all([this.store.headPosition(), this.states()]);
    const position = positionOf(states);
    return { states, position, lag: Math.max(0, head - position) };
  }
}
