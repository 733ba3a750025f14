import type { DispatcherStats } from '../dispatcher';

/** The dispatcher's figures in shared memory: the thread writes them, the event loop reads them at once (no message, no wait). */
const SLOTS = ['leading', 'checkpoint', 'derived', 'attempts', 'succeeded', 'failedAttempts', 'inFlight'] as const;

export function sharedStatsBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS.length * BigInt64Array.BYTES_PER_ELEMENT);
}

export function writeSharedStats(view: BigInt64Array, stats: DispatcherStats): void {
  SLOTS.forEach((slot, index) => Atomics.store(view, index, BigInt(slot === 'leading' ? Number(stats.leading) : stats[slot])));
}

export function readSharedStats(view: BigInt64Array): DispatcherStats {
  const value = (slot: (typeof SLOTS)[number]) => Number(Atomics.load(view, SLOTS.indexOf(slot)));
  return {
    leading: value('leading') === 1,
    checkpoint: value('checkpoint'),
    derived: value('derived'),
    attempts: value('attempts'),
    succeeded: value('succeeded'),
    failedAttempts: value('failedAttempts'),
    inFlight: value('inFlight'),
  };
}

/** A clock shared by the event loop (which writes its `now`) with the thread (which reads it): milliseconds since the epoch. */
export function sharedClockBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT);
}

export function writeSharedClock(view: BigInt64Array, nowMs: number): void {
  Atomics.store(view, 0, BigInt(Math.trunc(nowMs)));
}

export function readSharedClock(view: BigInt64Array): number {
  return Number(Atomics.load(view, 0));
}
