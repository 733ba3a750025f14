import {
  BatchHandler,
  CorruptEventError,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  SubscriptionFailedError,
  clampPageSize,
} from './event-store.port';

export interface LiveSignal {
  /** Resolves when events after `position` may exist, or after the fallback poll interval. */
  waitForEventsAfter(position: number, stopped: Promise<void>): Promise<void>;
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
    while (!stopping) {
      let batch: readonly RecordedEvent[];
      try {
        batch = await readAll(checkpoint, batchSize);
      } catch (e) {
        if (!(e instanceof CorruptEventError)) throw new SubscriptionFailedError(checkpoint + 1, e);
        // Hand over what precedes the bad event, then stop exactly at it: never skipped.
        if (e.decodedBefore.length > 0) {
          try {
            await handler(e.decodedBefore);
          } catch (handlerError) {
            throw new SubscriptionFailedError(e.decodedBefore[0].position, handlerError);
          }
        }
        throw new SubscriptionFailedError(e.position, e);
      }
      if (batch.length === 0) {
        await live.waitForEventsAfter(checkpoint, stopped);
        continue;
      }
      try {
        await handler(batch);
      } catch (e) {
        throw new SubscriptionFailedError(batch[0].position, e);
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
