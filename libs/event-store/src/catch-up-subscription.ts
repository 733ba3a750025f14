import { BatchHandler, CorruptEventError, RecordedEvent, SubscribeOptions, Subscription, SubscriptionFailedError, clampPageSize } from './event-store.port';
import { backoffMs, pause } from './retry';

/** First wait after a read of the log failed for a reason that may pass (connection lost, server restarting). */
export const SUBSCRIPTION_READ_RETRY_INITIAL_DELAY_MS = 100;
/**
 * Waits double up to this; the subscription keeps trying while the store is unreachable (the
 * store's own health check reports the outage). Short, so the read models resume within about a
 * second of the database coming back: one failed connection attempt a second costs nothing.
 */
export const SUBSCRIPTION_READ_RETRY_MAX_DELAY_MS = 1_000;

export interface LiveSignal {
  /** Resolves when events after `position` may exist, or after the fallback poll interval. */
  waitForEventsAfter(position: number, stopped: Promise<void>): Promise<void>;
  /**
   * Read errors after which reading again from the same checkpoint may work (a lost connection, a
   * restarting server). Anything else stops the subscription at once. Default: none is.
   */
  isTransient?(error: unknown): boolean;
}

/**
 * Catch-up then live subscription over any store that can page its global log. Batches are
 * handed over one at a time; the next read starts after the last position the handler finished.
 */
export function catchUpSubscription(
  readAll: (after: number, limit: number) => Promise<readonly RecordedEvent[]>,
  live: LiveSignal,
  options: SubscribeOptions,
  handler: BatchHandler,
): Subscription {
  const batchSize = clampPageSize(options.batchSize);
  let stopping = false;
  let signalStop!: () => void;
  const stopped = new Promise<void>((resolve) => (signalStop = resolve));
  let checkpoint = options.after;

  const done = (async () => {
    let failures = 0;
    while (!stopping) {
      let batch: readonly RecordedEvent[];
      try {
        batch = await readAll(checkpoint, batchSize);
        failures = 0;
      } catch (error) {
        if (stopping) return;
        if (!(error instanceof CorruptEventError) && live.isTransient?.(error)) {
          // Same checkpoint again after a pause: nothing is skipped or handed over twice.
          failures++;
          const delayMs = backoffMs(failures, SUBSCRIPTION_READ_RETRY_INITIAL_DELAY_MS, SUBSCRIPTION_READ_RETRY_MAX_DELAY_MS);
          options.onReadRetry?.(error, failures, delayMs);
          await pause(delayMs, stopped);
          continue;
        }
        if (!(error instanceof CorruptEventError)) throw new SubscriptionFailedError(checkpoint + 1, error);
        // Hand over what precedes the bad event, then stop exactly at it: never skipped.
        if (error.decodedBefore.length > 0) {
          try {
            await handler(error.decodedBefore);
          } catch (handlerError) {
            throw new SubscriptionFailedError(error.decodedBefore[0].position, handlerError);
          }
        }
        throw new SubscriptionFailedError(error.position, error);
      }
      if (batch.length === 0) {
        await live.waitForEventsAfter(checkpoint, stopped);
        continue;
      }
      try {
        await handler(batch);
      } catch (error) {
        throw new SubscriptionFailedError(batch[0].position, error);
      }
      checkpoint = batch[batch.length - 1].position;
    }
  })();
  done.catch(() => undefined); // the owner observes `done`; never an unhandled rejection

  return {
    done,
    async stop() {
      stopping = true;
      signalStop();
      await done.catch(() => undefined);
    },
  };
}
