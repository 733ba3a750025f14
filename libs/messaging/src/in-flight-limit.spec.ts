import { InFlightLimit } from './in-flight-limit';
import { backoffMs } from '@credit-ledger/event-store';

describe('in-flight limit (the ingestor backpressure bound)', () => {
  it('never grants more than the limit and serves waiters first come, first served', async () => {
    const limit = new InFlightLimit(10);
    let waits = 0;
    const never = () => false;
    const a = (await limit.acquire(6, () => waits++, never))!;
    const order: string[] = [];
    const b = limit.acquire(6, () => waits++, never).then((r) => (order.push('b'), r!));
    const c = limit.acquire(1, () => waits++, never).then((r) => (order.push('c'), r!));
    await new Promise((r) => setTimeout(r, 10));
    expect(limit.inUse).toBe(6);
    expect(order).toEqual([]); // c fits, but b asked first
    a();
    const [releaseB, releaseC] = await Promise.all([b, c]);
    expect(order).toEqual(['b', 'c']);
    expect(limit.inUse).toBe(7);
    expect(limit.peak).toBe(7);
    expect(waits).toBe(2);
    releaseB();
    releaseC();
    releaseC(); // releasing twice is harmless
    expect(limit.inUse).toBe(0);
  });

  it('gives up waiting when abandoned (partition revoked) and lets the next waiter in', async () => {
    const limit = new InFlightLimit(2);
    const held = (await limit.acquire(
      2,
      () => undefined,
      () => false,
    ))!;
    let revoked = false;
    const abandoned = limit.acquire(
      2,
      () => undefined,
      () => revoked,
    );
    revoked = true;
    expect(await abandoned).toBeUndefined();
    held();
    expect(limit.inUse).toBe(0);
  });

  it('refuses requests outside 1..limit', async () => {
    const limit = new InFlightLimit(3);
    await expect(
      limit.acquire(
        4,
        () => undefined,
        () => false,
      ),
    ).rejects.toThrow(RangeError);
    await expect(
      limit.acquire(
        0,
        () => undefined,
        () => false,
      ),
    ).rejects.toThrow(RangeError);
  });
});

describe('backoff', () => {
  it('doubles from the initial delay up to the cap, with jitter within [ceiling/2, ceiling]', () => {
    expect(backoffMs(1, 100, 5_000, () => 0)).toBe(50);
    expect(backoffMs(1, 100, 5_000, () => 1)).toBe(100);
    expect(backoffMs(4, 100, 5_000, () => 1)).toBe(800);
    expect(backoffMs(50, 100, 5_000, () => 1)).toBe(5_000);
  });
});
