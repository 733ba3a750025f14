import { AllStreamRecordedEvent, AllStreamResolvedEvent, AllStreamSubscription } from '@eventstore/db-client';
import { toPortPosition } from './eventstoredb-positions';

/** An event of $all with its port position. */
export interface PositionedEvent {
  readonly position: number;
  readonly event: AllStreamRecordedEvent;
}

/** The subscription ended (server closed the call) while it was still needed. */
export class FeedEndedError extends Error {
  constructor() {
    super('the $all subscription ended unexpectedly');
    this.name = 'FeedEndedError';
  }
}

/**
 * A pull-based view of one client $all subscription (catch-up, then live): events come out in
 * order, strictly after `after`, at most `max` at a time, and only when asked, so the reader's
 * pace is the backpressure (the Readable is never switched to flowing mode). The listeners only
 * set flags: events are read with `read()` outside them, never re-entrantly.
 */
export class AllFeed {
  private failure: unknown;
  private ended = false;
  private caughtUp = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly lead: PositionedEvent[];
  private last: PositionedEvent | undefined;

  /**
   * `lead`: events already read (in order) that come before anything the subscription yields,
   * e.g. the first event after a position the subscription could not start from inclusively.
   */
  constructor(
    private readonly subscription: AllStreamSubscription,
    private readonly after: number,
    lead: readonly PositionedEvent[] = [],
  ) {
    this.lead = [...lead];
    const notify = () => this.touch();
    subscription.on('readable', notify);
    subscription.on('error', (error: unknown) => {
      this.failure ??= error;
      notify();
    });
    subscription.on('end', () => {
      this.ended = true;
      notify();
    });
    subscription.on('close', () => {
      this.ended = true;
      notify();
    });
    subscription.on('caughtUp', () => {
      this.caughtUp = true;
      notify();
    });
  }

  /** Wakes a pending wait; also called on progress that is not an event (a filter checkpoint). */
  touch(): void {
    const wakeWaiter = this.wake;
    this.wake = undefined;
    wakeWaiter?.();
  }

  /** Up to `max` events already buffered; never waits. */
  take(max: number): PositionedEvent[] {
    const out: PositionedEvent[] = [];
    while (out.length < max && this.lead.length > 0) this.accept(this.lead.shift()!, out);
    while (out.length < max) {
      const resolved = this.subscription.read() as AllStreamResolvedEvent | null;
      if (resolved === null) break;
      if (resolved.event) this.accept({ position: toPortPosition(resolved.event.position), event: resolved.event }, out);
    }
    return out;
  }

  private accept(positioned: PositionedEvent, out: PositionedEvent[]): void {
    if (this.last === undefined) {
      // A server that starts inclusively may hand back the event at `after` itself.
      if (positioned.position <= this.after) return;
    } else if (positioned.position <= this.last.position) {
      if (positioned.position === this.last.position && positioned.event.id === this.last.event.id) return; // a replayed duplicate
      throw new Error(
        `$all positions are not strictly increasing (${positioned.position} after ${this.last.position}): ` +
          'events of a legacy explicit transaction share a commit position and cannot be mapped to the port',
      );
    }
    this.last = positioned;
    out.push(positioned);
  }

  /** Resolves at the next sign of life: events, error, end, caught up, checkpoint, stop, or `timeout`. */
  private waitForNews(timeout?: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      void timeout?.then(resolve);
    });
  }

  /** Makes a pending or later `next()` answer undefined (the owner is stopping). */
  stop(): void {
    this.stopped = true;
    this.touch();
  }

  /** The next events (1..max), waiting for them; undefined once stopped. */
  async next(max: number): Promise<PositionedEvent[] | undefined> {
    for (;;) {
      if (this.stopped) return undefined;
      const batch = this.take(max); // what is in hand goes first, even after an error
      if (batch.length > 0) return batch;
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) throw new FeedEndedError();
      await this.waitForNews();
    }
  }

  /**
   * Everything up to the moment the subscription caught up with the log (or `limit` events,
   * whichever comes first). The server sends "caught up" after the last historical event, so
   * once it has come and the buffer is drained, nothing older is missing. Fails when no sign of
   * progress (event, checkpoint, caught-up) comes for `idleTimeoutMs`: a server too old to send
   * "caught up" (before EventStoreDB 23.10) would otherwise never answer.
   */
  async collect(limit: number, idleTimeoutMs: number): Promise<PositionedEvent[]> {
    const out: PositionedEvent[] = [];
    let timedOut = false;
    for (;;) {
      const got = this.take(limit - out.length);
      out.push(...got);
      if (out.length >= limit) return out;
      if (this.failure !== undefined) {
        if (out.length > 0) return out; // a shorter page is still a correct page
        throw this.failure;
      }
      if (this.caughtUp) return out; // take() drained the buffer: everything before "caught up" is in hand
      if (this.ended) {
        if (out.length > 0) return out;
        throw new FeedEndedError();
      }
      if (timedOut && got.length === 0) {
        throw new Error(
          `no progress from the filtered $all read for ${idleTimeoutMs} ms (no events, checkpoints nor "caught up"): ` +
            'EventStoreDB 23.10+ or KurrentDB is required',
        );
      }
      let timer: NodeJS.Timeout | undefined;
      timedOut = false;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          timedOut = true;
          resolve();
        }, idleTimeoutMs);
      });
      await this.waitForNews(timeout);
      clearTimeout(timer);
    }
  }

  /** Cancels the subscription; later errors of the cancelled call are ignored. */
  async close(): Promise<void> {
    this.subscription.on('error', () => undefined);
    await this.subscription.unsubscribe().catch(() => undefined);
  }
}
