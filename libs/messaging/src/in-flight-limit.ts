/** How often a waiter re-checks whether it should give up (partition revoked, stopping). */
export const IN_FLIGHT_ABANDON_CHECK_MS = 200;

interface Waiter {
  readonly size: number;
  readonly grant: () => void;
}

/**
 * A counting bound on messages being processed at once, granted first come, first served (a big
 * request is not starved by small ones). `acquire` resolves with a release function, or with
 * undefined if `abandoned()` became true while waiting.
 */
export class InFlightLimit {
  private used = 0;
  private peakUsed = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('the in-flight limit must be a positive integer');
  }

  get inUse(): number {
    return this.used;
  }

  get peak(): number {
    return this.peakUsed;
  }

  async acquire(size: number, onWait: () => void, abandoned: () => boolean): Promise<(() => void) | undefined> {
    if (!Number.isSafeInteger(size) || size < 1 || size > this.max) throw new RangeError(`acquire 1..${this.max}, got ${size}`);
    if (this.waiters.length === 0 && this.used + size <= this.max) return this.take(size);
    onWait();
    let granted = false;
    let grant!: () => void;
    const turn = new Promise<void>((resolve) => (grant = resolve));
    const waiter: Waiter = { size, grant: () => ((granted = true), grant()) };
    this.waiters.push(waiter);
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([turn, new Promise<void>((r) => (timer = setTimeout(r, IN_FLIGHT_ABANDON_CHECK_MS)))]);
      clearTimeout(timer);
      if (granted) {
        if (!abandoned()) return this.releaser(size);
        this.release(size);
        return undefined;
      }
      if (abandoned()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        this.grantWaiters();
        return undefined;
      }
    }
  }

  private take(size: number): () => void {
    this.used += size;
    this.peakUsed = Math.max(this.peakUsed, this.used);
    return this.releaser(size);
  }

  private releaser(size: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(size);
    };
  }

  private release(size: number): void {
    this.used -= size;
    this.grantWaiters();
  }

  private grantWaiters(): void {
    while (this.waiters.length > 0 && this.used + this.waiters[0].size <= this.max) {
      const w = this.waiters.shift()!;
      this.used += w.size;
      this.peakUsed = Math.max(this.peakUsed, this.used);
      w.grant();
    }
  }
}
