import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { backoffMs, sleep, SqliteEventStore } from '@credit-ledger/event-store';
import { moduleThread } from '@credit-ledger/ledger';
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
  private worker: Worker | undefined;
  /** What the thread reported (its subscription failed), or why it ended. */
  private reported: string | undefined;
  private ended: string | undefined;
  private stopping = false;
  private restarts = 0;
  private readonly wakers = new Set<() => void>();
  private stopListening: (() => void) | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: SqliteEventStore,
    private readonly data: ProjectionThreadData,
    private readonly logger: FollowerLogger,
    private readonly restartDelaysMs: readonly [initial: number, max: number] = [FOLLOW_RESTART_INITIAL_DELAY_MS, FOLLOW_RESTART_MAX_DELAY_MS],
  ) {}

  start(): Promise<void> {
    this.stopListening ??= this.store.listenToCommits((head) => this.worker?.postMessage({ type: 'committed', head } satisfies ProjectionThreadRequest));
    return this.run();
  }

  failure(): string | undefined {
    return this.ended ?? this.reported;
  }

  /** The running thread (for tests that end it abruptly). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  /** Starts the thread; resolves once it caught up with the log, or ended. */
  private run(): Promise<void> {
    return new Promise<void>((caughtUp) => {
      const worker = moduleThread(join(__dirname, 'projections.thread'), { workerData: this.data });
      this.worker = worker;
      let failed: Error | undefined;
      worker.on('message', (message: ProjectionThreadMessage) => {
        if (message.type === 'caught-up') {
          this.ended = undefined;
          this.restarts = 0;
          caughtUp();
        } else if (message.type === 'failure') this.reported = message.failure;
        else this.logger[message.level](message.message);
      });
      worker.on('error', (error) => (failed = error));
      this.exited = new Promise<void>((exited) =>
        worker.on('exit', (code) => {
          this.worker = undefined;
          exited();
          caughtUp();
          if (!this.stopping) this.restartLater(failed ? `the projections thread failed: ${failed.message}` : `the projections thread exited (code ${code})`);
        }),
      );
      // After the listeners (a 'message' listener refs the worker again): the thread never keeps the process alive by itself.
      worker.unref();
    });
  }

  private restartLater(why: string): void {
    this.ended = why;
    const delayMs = backoffMs(++this.restarts, ...this.restartDelaysMs);
    this.logger.error(`projections stopped: ${why}; starting again from the checkpoint in ${delayMs} ms`);
    void sleep(delayMs, this.wakers).then(() => (this.stopping ? undefined : this.run()));
  }

  /** Asks the thread to stop (it closes its files), ending it after PROJECTION_THREAD_STOP_TIMEOUT_MS at most. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakers) wake();
    this.stopListening?.();
    const worker = this.worker;
    if (!worker) return;
    worker.postMessage({ type: 'stop' } satisfies ProjectionThreadRequest);
    const timeout = setTimeout(() => void worker.terminate(), PROJECTION_THREAD_STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timeout);
  }
}
