import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { RestartingThread } from '@credit-ledger/ledger';
import { FOLLOW_RESTART_INITIAL_DELAY_MS, FOLLOW_RESTART_MAX_DELAY_MS, FollowerLogger, LiveProjections } from './projection-follower';

/** How long a stop waits for the thread to close its files before ending it. */
export const PROJECTION_THREAD_STOP_TIMEOUT_MS = 10_000;

export interface ProjectionThreadData {
  /** The event store's file, read by the thread on a read-only connection. */
  readonly eventsFile: string;
  /** Where `readmodels.sqlite` is. */
  readonly dataDir: string;
}

/** To the thread: the store committed up to `head`; or stop. */
export type ProjectionThreadRequest = { readonly type: 'committed'; readonly head: number } | { readonly type: 'stop' };

/** From the thread. */
export type ProjectionThreadMessage =
  | { readonly type: 'caught-up' }
  | { readonly type: 'failure'; readonly failure: string | undefined }
  | { readonly type: 'log'; readonly level: 'warn' | 'error'; readonly message: string };

/**
 * The read models of the embedded store, applied in a thread of their own: the event loop keeps
 * only what commands and queries need. The thread reads the log itself, on its own connection, and
 * hears of each commit of this process's store from here (other processes' commits from the file).
 * A thread that ends by itself is started again after a pause (doubling, capped), from the
 * checkpoint; meanwhile `failure()` says why the read models are not following the log.
 */
export class ProjectionThread implements LiveProjections {
  private readonly running: RestartingThread<ProjectionThreadRequest, ProjectionThreadMessage>;
  /** What the thread reported (its subscription failed), or why it ended. */
  private reported: string | undefined;
  private ended: string | undefined;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly store: SqliteEventStore,
    data: ProjectionThreadData,
    private readonly logger: FollowerLogger,
    restartDelaysMs: readonly [initial: number, max: number] = [FOLLOW_RESTART_INITIAL_DELAY_MS, FOLLOW_RESTART_MAX_DELAY_MS],
  ) {
    this.running = new RestartingThread(
      join(__dirname, 'projections.thread'),
      data,
      {
        message: (message: ProjectionThreadMessage) => {
          if (message.type === 'caught-up') {
            this.ended = undefined;
            return true;
          }
          if (message.type === 'failure') this.reported = message.failure;
          else this.logger[message.level](message.message);
          return false;
        },
        ended: (why, restartInMs) => {
          if (restartInMs === undefined) return;
          this.ended = why;
          this.logger.error(`projections stopped: ${why}; starting again from the checkpoint in ${restartInMs} ms`);
        },
      },
      restartDelaysMs,
      PROJECTION_THREAD_STOP_TIMEOUT_MS,
      'projections',
    );
  }

  /** Starts the thread; resolves once it caught up with the log, or ended. */
  start(): Promise<void> {
    this.stopListening ??= this.store.listenToCommits((head) => this.running.post({ type: 'committed', head }));
    return this.running.start();
  }

  failure(): string | undefined {
    return this.ended ?? this.reported;
  }

  /** The running thread (for tests that end it abruptly). */
  get thread(): Worker | undefined {
    return this.running.thread;
  }

  /** Asks the thread to stop (it closes its files), ending it after PROJECTION_THREAD_STOP_TIMEOUT_MS at most. */
  async stop(): Promise<void> {
    this.stopListening?.();
    await this.running.stop({ type: 'stop' });
  }
}
