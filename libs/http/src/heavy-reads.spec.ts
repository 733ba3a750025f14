import { HeavyReadSlots } from './heavy-reads';

describe('HeavyReadSlots', () => {
  it('grants up to its capacity at once, then queues in order of arrival and hands each freed slot to the first in the queue', async () => {
    const slots = new HeavyReadSlots(2, 3, 60_000);
    expect(await Promise.all([slots.acquire(), slots.acquire()])).toEqual([true, true]);
    const order: string[] = [];
    const queued = ['a', 'b', 'c'].map((name) => slots.acquire().then((granted) => order.push(`${name}:${granted}`)));
    expect(slots.queued).toBe(3);
    // The queue is full: refused at once.
    expect(await slots.acquire()).toBe(false);
    // A newcomer never jumps the queue, even when it asks first after a release.
    expect(slots.tryAcquire()).toBe(false);
    slots.release();
    slots.release();
    slots.release();
    await Promise.all(queued);
    expect(order).toEqual(['a:true', 'b:true', 'c:true']);
    expect(slots.inUse).toBe(2);
    slots.release();
    slots.release();
    expect(slots.inUse).toBe(0);
    expect(await slots.acquire()).toBe(true);
  });

  it('a read that waited its time in the queue is refused, and leaves the queue', async () => {
    const slots = new HeavyReadSlots(1, 4, 20);
    expect(await slots.acquire()).toBe(true);
    const waited = slots.acquire();
    expect(slots.queued).toBe(1);
    expect(await waited).toBe(false);
    expect(slots.queued).toBe(0);
    slots.release();
    expect(slots.inUse).toBe(0);
  });
});
