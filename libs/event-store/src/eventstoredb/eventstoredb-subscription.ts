import { BatchHandler, CorruptEventError, RecordedEvent, SubscribeOptions, Subscription, SubscriptionFailedError, clampPageSize } from '../event-store.port';
import { pause } from '../retry';
import { decodeEvents } from './eventstoredb-codec';
import { canResubscribeAfter } from './eventstoredb-errors';
import { AllFeed } from './eventstoredb-feed';

/** A subscription whose $all feed drops (server restart, leader change) resubscribes this many times in a row at most. */
export const ESDB_SUBSCRIPTION_MAX_RETRIES = 5;
export const ESDB_SUBSCRIPTION_RETRY_DELAY_MS = 1_000;

/** Opens a filtered $all feed yielding exactly the events after `after`. */
export type OpenFeed = (after: number, bufferEvents: number) => Promise<AllFeed>;

/**
 * Catch-up then live over filtered $all feeds: a feed that drops for a reason that may pass is
 * opened again from the checkpoint (the position of the last event the handler finished).
 */
export function subscribeThroughFeeds(openFeed: OpenFeed, options: SubscribeOptions, handler: BatchHandler): Subscription {
  const loop = new FeedSubscriptionLoop(openFeed, options, handler);
  const done = loop.run();
  done.catch(() => undefined); // the owner observes `done`; never an unhandled rejection
  return { done, stop: () => loop.stop(done) };
}

class FeedSubscriptionLoop {
  private readonly batchSize: number;
  private stopping = false;
  private feed: AllFeed | undefined;
  private signalStop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.signalStop = resolve));
  private checkpoint: number;

  constructor(
    private readonly openFeed: OpenFeed,
    private readonly options: SubscribeOptions,
    private readonly handler: BatchHandler,
  ) {
    this.batchSize = clampPageSize(options.batchSize);
    if (!Number.isSafeInteger(options.after) || options.after < 0) throw new RangeError(`a position is a safe integer >= 0, got ${options.after}`);
    this.checkpoint = options.after;
  }

  async stop(done: Promise<void>): Promise<void> {
    this.stopping = true;
    this.signalStop();
    this.feed?.stop();
    await done.catch(() => undefined);
  }

  async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        this.feed = await this.openFeed(this.checkpoint, this.batchSize);
        if (this.stopping) return; // stop() came while the feed was opening: nothing to wake
        await this.follow(this.feed, () => (failures = 0));
        return;
      } catch (error) {
        if (error instanceof SubscriptionFailedError) throw error;
        if (this.stopping) return;
        if (!canResubscribeAfter(error) || ++failures > ESDB_SUBSCRIPTION_MAX_RETRIES) throw new SubscriptionFailedError(this.checkpoint + 1, error);
        this.options.onReadRetry?.(error, failures, ESDB_SUBSCRIPTION_RETRY_DELAY_MS);
        await pause(ESDB_SUBSCRIPTION_RETRY_DELAY_MS, this.stopped);
      } finally {
        const feed = this.feed;
        this.feed = undefined;
        await feed?.close();
      }
    }
  }

  /** Hands the feed's batches over until it is stopped; throws when it fails. */
  private async follow(feed: AllFeed, onDelivered: () => void): Promise<void> {
    for (;;) {
      const raw = await feed.next(this.batchSize);
      if (raw === undefined) return; // stopped
      let batch: RecordedEvent[];
      try {
        batch = decodeEvents(
          raw.map((positioned) => positioned.event),
          raw.map((positioned) => positioned.position),
        );
      } catch (error) {
        if (!(error instanceof CorruptEventError)) throw error;
        // Hand over what precedes the bad event, then stop exactly at it: never skipped.
        if (error.decodedBefore.length > 0) await this.deliver([...error.decodedBefore]);
        throw new SubscriptionFailedError(error.position, error);
      }
      await this.deliver(batch);
      onDelivered();
      if (this.stopping) return;
    }
  }

  private async deliver(batch: RecordedEvent[]): Promise<void> {
    try {
      await this.handler(batch);
    } catch (error) {
      throw new SubscriptionFailedError(batch[0].position, error);
    }
    this.checkpoint = batch[batch.length - 1].position;
  }
}
