import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EventStore, MAX_READ_PAGE_SIZE } from '@credit-ledger/event-store';
import { DEFAULT_WARM_UP_EVENTS, LedgerConfig } from '../config/ledger-config';
import { LedgerMetrics } from '../metrics/ledger-metrics';
import { EVENT_STORE, LEDGER_CONFIG } from '../tokens';
import { CommandExecutor } from './command-executor';
import { ACCOUNT_STREAM_PREFIX, accountIdOfStream } from './stream-names';

/** Accounts the warm-up considers at most (the longest first). */
export const MAX_WARM_UP_ACCOUNTS = 1_000;
/** Where the store cannot list its longest streams: how far back the log is read to find the accounts in use, in events. */
export const WARM_UP_LOG_TAIL_EVENTS = 50_000;
/** Smaller accounts are folded on their first request quickly enough: the warm-up leaves them. */
export const WARM_UP_MIN_ACCOUNT_EVENTS = 2_000;

/**
 * After a start (a deploy, a restart, a new instance), the first request for a large account
 * would wait for its whole stream to be read and folded: a second or more for tens of thousands
 * of events. The warm-up does that work in the background instead: it asks the store for its
 * longest account streams (or, where the store cannot say, reads the log's tail to find the
 * accounts in use) and folds the largest first into the repository's cache, within a budget of
 * events. It runs through the executor like a read, so a request for an
 * account being folded waits for that fold rather than starting its own, and it stops at shutdown.
 */
@Injectable()
export class AccountWarmUp implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AccountWarmUp');
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly executor: CommandExecutor,
    private readonly metrics: LedgerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const budgetEvents = this.config.warmUpEvents ?? DEFAULT_WARM_UP_EVENTS;
    if (budgetEvents === 0) return;
    this.running = this.run(budgetEvents).catch((error: unknown) => {
      // Only a cache: a failed warm-up leaves accounts to be folded on demand.
      this.logger.warn(`warm-up stopped: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /** Resolves when the warm-up has ended (at once when it is off). */
  async done(): Promise<void> {
    await this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async run(budgetEvents: number): Promise<void> {
    const startedAtMs = Date.now();
    this.metrics.warmUpRunning(true);
    try {
      let folded = 0;
      let accounts = 0;
      for (const [accountId, events] of await this.largestAccounts()) {
        if (this.stopped) return;
        if (events > budgetEvents - folded) continue;
        await this.executor.read(accountId, () => undefined);
        folded += events;
        accounts += 1;
        this.metrics.warmUpFolded(events);
      }
      if (accounts > 0) this.logger.log(`warm-up: ${accounts} accounts, ${folded} events folded in ${Date.now() - startedAtMs} ms`);
    } finally {
      this.metrics.warmUpRunning(false);
    }
  }

  /** The accounts of at least WARM_UP_MIN_ACCOUNT_EVENTS events, largest first, with their size in events. */
  private async largestAccounts(): Promise<[string, number][]> {
    if (this.store.longestStreams) {
      const streams = await this.store.longestStreams(ACCOUNT_STREAM_PREFIX, MAX_WARM_UP_ACCOUNTS);
      return streams.flatMap(({ streamId, events }) => {
        const accountId = accountIdOfStream(streamId);
        return accountId !== undefined && events >= WARM_UP_MIN_ACCOUNT_EVENTS ? [[accountId, events] as [string, number]] : [];
      });
    }
    return this.largestInLogTail();
  }

  private async largestInLogTail(): Promise<[string, number][]> {
    const head = await this.store.headPosition();
    const sizes = new Map<string, number>();
    for (let after = Math.max(0, head - WARM_UP_LOG_TAIL_EVENTS); after < head && !this.stopped;) {
      const page = await this.store.readAll({ after, limit: MAX_READ_PAGE_SIZE });
      if (page.length === 0) break;
      for (const event of page) {
        const accountId = accountIdOfStream(event.streamId);
        if (accountId !== undefined) sizes.set(accountId, event.revision + 1);
      }
      after = page[page.length - 1].position;
    }
    return [...sizes]
      .filter(([, events]) => events >= WARM_UP_MIN_ACCOUNT_EVENTS)
      .sort((left, right) => right[1] - left[1])
      .slice(0, MAX_WARM_UP_ACCOUNTS);
  }
}
