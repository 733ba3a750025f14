import { BucketMovement, HoldReturn, ReservationExpired, ReservationReleased } from '../events';
import { fold } from '../evolve';
import { OpenAccountState, OpenHold, reservedOf } from '../state';

/** The reason a reset gives the reservations it releases. */
export const CYCLE_RESET_REASON = 'cycle_reset';

/** A hold split in two: the credits a capture keeps (held draws, oldest first) and the ones given back. */
export interface HoldSplit {
  readonly kept: readonly BucketMovement[];
  readonly returnedTo: readonly BucketMovement[];
  /** Given back credits whose bucket lapsed while they were held: they expire instead. */
  readonly lapsed: number;
}

/** Splits `hold` keeping `keep` credits; what goes back goes to its buckets when they are still live. */
export function splitHold(state: OpenAccountState, hold: OpenHold, keep: number): HoldSplit {
  const live = new Set(state.creditTypes[hold.creditType].buckets.map((bucket) => bucket.id));
  const kept: BucketMovement[] = [];
  const returnedTo: BucketMovement[] = [];
  let lapsed = 0;
  let toKeep = keep;
  for (const movement of hold.heldFrom) {
    const keepHere = Math.min(movement.credits, toKeep);
    toKeep -= keepHere;
    if (keepHere > 0) kept.push({ bucketId: movement.bucketId, credits: keepHere });
    const back = movement.credits - keepHere;
    if (back === 0) continue;
    if (live.has(movement.bucketId)) returnedTo.push({ bucketId: movement.bucketId, credits: back });
    else lapsed += back;
  }
  return { kept, returnedTo, lapsed };
}

/** The common part of the event that ends `hold` on `state` (a capture's consumption already applied), `split` its split. */
export function holdReturn(state: OpenAccountState, hold: OpenHold, split: HoldSplit): HoldReturn {
  const figures = state.creditTypes[hold.creditType].figures;
  return {
    reservationId: hold.reservationId,
    userId: hold.userId,
    creditType: hold.creditType,
    held: hold.credits,
    returnedTo: split.returnedTo,
    lapsed: split.lapsed,
    cycleId: state.cycleId,
    balanceAfter: split.lapsed === 0 ? figures : { ...figures, expired: figures.expired + split.lapsed, remaining: figures.remaining - split.lapsed },
    reservedAfter: reservedOf(state, hold.creditType) - hold.credits,
  };
}

export function holdsDue(state: OpenAccountState, at: string): boolean {
  return state.holds.nextExpiry !== null && state.holds.nextExpiry <= at;
}

/** Each open hold whose expiry has passed at `upTo`, soonest first, ends with ReservationExpired (at its expiry). */
export function expireHolds(state: OpenAccountState, upTo: string): ReservationExpired[] {
  if (!holdsDue(state, upTo)) return [];
  const due = state.holds.open
    .filter((hold) => hold.expiresAt <= upTo)
    .sort((first, second) => (first.expiresAt < second.expiresAt ? -1 : first.expiresAt > second.expiresAt ? 1 : 0));
  const events: ReservationExpired[] = [];
  let current = state;
  for (const hold of due) {
    const event: ReservationExpired = {
      type: 'ReservationExpired',
      occurredAt: hold.expiresAt,
      data: { ...holdReturn(current, hold, splitHold(current, hold, 0)), expiresAt: hold.expiresAt },
    };
    events.push(event);
    current = fold([event], current) as OpenAccountState;
  }
  return events;
}

/** Every open hold ends with ReservationReleased (`reason`) at `at`: a reset leaves none open. */
export function releaseAllHolds(state: OpenAccountState, at: string, reason: string): ReservationReleased[] {
  const events: ReservationReleased[] = [];
  let current = state;
  for (const hold of state.holds.open) {
    const event: ReservationReleased = {
      type: 'ReservationReleased',
      occurredAt: at,
      data: { ...holdReturn(current, hold, splitHold(current, hold, 0)), reason },
    };
    events.push(event);
    current = fold([event], current) as OpenAccountState;
  }
  return events;
}
