import {
  BatchHandler,
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
        throw new SubscriptionFailedError(checkpoint + 1, e);
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
