/** Retry helpers shared by the store adapters, the projections and the messaging workers. */

/** Exponential backoff with full jitter: attempt 1 waits up to `initialMs`, doubling up to `maxMs`. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

/** Sleeps `ms`; calling any function in `wakers` (registered for the duration) ends it early. */
export function sleep(ms: number, wakers?: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      wakers?.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    wakers?.add(wake);
  });
}

/** Waits `ms`, or less if `stopped` settles meanwhile (a subscription being stopped). */
export function pause(ms: number, stopped: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void stopped.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
