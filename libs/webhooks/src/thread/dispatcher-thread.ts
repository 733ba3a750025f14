import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { RestartingThread } from '@credit-ledger/ledger';
import { DispatcherStats, newDispatcherOwner, WebhookDispatching, WebhookLogger } from '../dispatcher';
import { WebhookStoreConfig } from '../store/open-webhook-store';
import { WebhooksConfig } from '../webhooks-config';
import { readSharedStats, sharedClockBuffer, sharedStatsBuffer, writeSharedClock, writeSharedStats } from './shared-stats';

/** How long a stop waits for the thread to finish its attempts and close its files before ending it. */
export const DISPATCHER_THREAD_STOP_TIMEOUT_MS = 10_000;
/** Pause before a thread that ended by itself is started again (doubling, capped). */
export const DISPATCHER_THREAD_RESTART_INITIAL_DELAY_MS = 1_000;
export const DISPATCHER_THREAD_RESTART_MAX_DELAY_MS = 30_000;
/** A clock other than the system's (tests move it by hand) is shared with the thread at least this often. */
export const DISPATCHER_CLOCK_SHARE_INTERVAL_MS = 10;

export interface DispatcherThreadData {
  /** The event store's file, read by the thread on read-only connections of its own. */
  readonly eventsFile: string;
  /** Where the thread opens the webhook store. */
  readonly store: WebhookStoreConfig;
  readonly webhooks: WebhooksConfig;
  readonly logLevel: string;
  /** The lease owner: the same for every thread of this process, so that one started again after a crash keeps the lease. */
  readonly owner: string;
  /** The ledger's clock as the event loop last shared it; null: the system clock. */
  readonly clock: SharedArrayBuffer | null;
  /** Where the thread publishes its figures (`DispatcherStats`). */
  readonly stats: SharedArrayBuffer;
}

/** To the thread: the store committed up to `head`; look for due deliveries now; or stop. */
export type DispatcherThreadRequest = { readonly type: 'committed'; readonly head: number } | { readonly type: 'wake' } | { readonly type: 'stop' };

/** From the thread: its dispatcher started (it tried the lease once, and leads if it got it). */
export type DispatcherThreadMessage = { readonly type: 'started' };

type Counters = Pick<DispatcherStats, 'derived' | 'attempts' | 'succeeded' | 'failedAttempts'>;

/**
 * The webhook dispatcher of the embedded store in a thread of the server: following the log,
 * folding account states, deriving, signing and sending take no time from the event loop that
 * answers requests. The thread reads the log on connections of its own and hears of each commit
 * of this process's store from here (other processes' commits from the file). A thread that ends
 * by itself is started again after a pause (doubling, capped) and takes its lease back at once.
 */
export class WebhookDispatcherThread implements WebhookDispatching {
  private readonly running: RestartingThread<DispatcherThreadRequest, DispatcherThreadMessage>;
  private readonly statsView: BigInt64Array;
  private readonly clockView: BigInt64Array | null;
  /** The figures of threads that ended: counters go on from them, never back. */
  private carried: Counters = { derived: 0, attempts: 0, succeeded: 0, failedAttempts: 0 };
  private clockTimer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly store: SqliteEventStore,
    settings: Pick<DispatcherThreadData, 'store' | 'webhooks' | 'logLevel'>,
    /** The ledger's clock when it is not the system's (scenario tests); null: the thread reads the system clock itself. */
    private readonly clock: (() => number) | null,
    logger: WebhookLogger,
    restartDelaysMs: readonly [initial: number, max: number] = [DISPATCHER_THREAD_RESTART_INITIAL_DELAY_MS, DISPATCHER_THREAD_RESTART_MAX_DELAY_MS],
  ) {
    const stats = sharedStatsBuffer();
    const clockBuffer = clock === null ? null : sharedClockBuffer();
    this.statsView = new BigInt64Array(stats);
    this.clockView = clockBuffer === null ? null : new BigInt64Array(clockBuffer);
    const data: DispatcherThreadData = { ...settings, eventsFile: store.file, owner: newDispatcherOwner(), clock: clockBuffer, stats };
    this.running = new RestartingThread(
      join(__dirname, 'webhooks.thread'),
      data,
      {
        message: (message: DispatcherThreadMessage) => message.type === 'started',
        ended: (why, restartInMs) => {
          this.retire();
          if (restartInMs !== undefined) logger.error({ err: why, restartInMs }, 'webhooks: the dispatcher stopped; starting it again');
        },
      },
      restartDelaysMs,
      DISPATCHER_THREAD_STOP_TIMEOUT_MS,
      'webhook dispatcher',
    );
  }

  /** Starts the thread; resolves once its dispatcher started (or the thread ended: it is started again later). */
  start(): Promise<void> {
    this.stopListening ??= this.store.listenToCommits((head) => this.send({ type: 'committed', head }));
    if (this.clock !== null && this.clockTimer === undefined) {
      this.shareClock();
      this.clockTimer = setInterval(() => this.shareClock(), DISPATCHER_CLOCK_SHARE_INTERVAL_MS);
      this.clockTimer.unref();
    }
    return this.running.start();
  }

  wake(): void {
    this.send({ type: 'wake' });
  }

  isLeading(): boolean {
    return readSharedStats(this.statsView).leading;
  }

  stats(): DispatcherStats {
    const current = readSharedStats(this.statsView);
    return {
      ...current,
      derived: this.carried.derived + current.derived,
      attempts: this.carried.attempts + current.attempts,
      succeeded: this.carried.succeeded + current.succeeded,
      failedAttempts: this.carried.failedAttempts + current.failedAttempts,
    };
  }

  /** The running thread (for tests that end it abruptly). */
  get thread(): Worker | undefined {
    return this.running.thread;
  }

  /** Every message carries the clock as it is now: a test that moved it and then woke the dispatcher is seen at that instant. */
  private send(request: DispatcherThreadRequest): void {
    this.shareClock();
    this.running.post(request);
  }

  private shareClock(): void {
    if (this.clock !== null && this.clockView !== null) writeSharedClock(this.clockView, this.clock());
  }

  /** An ended thread leads no more; its counters (as it last published them) are kept so that the process's totals never go back. */
  private retire(): void {
    const last = readSharedStats(this.statsView);
    this.carried = {
      derived: this.carried.derived + last.derived,
      attempts: this.carried.attempts + last.attempts,
      succeeded: this.carried.succeeded + last.succeeded,
      failedAttempts: this.carried.failedAttempts + last.failedAttempts,
    };
    writeSharedStats(this.statsView, { leading: false, checkpoint: last.checkpoint, derived: 0, attempts: 0, succeeded: 0, failedAttempts: 0, inFlight: 0 });
  }

  /** Asks the thread to stop (attempts in flight finish, the checkpoint is saved, the lease released), ending it after DISPATCHER_THREAD_STOP_TIMEOUT_MS at most. */
  async stop(): Promise<void> {
    this.stopListening?.();
    clearInterval(this.clockTimer);
    await this.running.stop({ type: 'stop' });
  }
}
