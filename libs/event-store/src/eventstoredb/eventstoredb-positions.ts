import {
  AppendExpectedRevision,
  CurrentRevision,
  MaxAppendSizeExceededError,
  NO_STREAM as ESDB_NO_STREAM,
  Position,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { InvalidAppendError, NO_STREAM, WrongExpectedRevisionError } from '../event-store.port';

/**
 * Position mapping. The port's position is the event's $all COMMIT position (a byte offset in the
 * transaction log). Appends over gRPC are implicit transactions: every event is its own prepare
 * record flagged "committed", and the server reports that record's log position as the event's
 * commit position (AllReader: `CommitEventRecord(eventRecord, eventRecord.LogPosition)`). So the
 * commit position is unique per event and grows in $all (commit) order, even within one
 * multi-event append. The prepare position is not used: servers before 22.6 sent the
 * transaction's first position there, shared by all events of an append. (Only legacy explicit
 * TCP transactions share one commit position; the feed refuses them rather than guess.)
 *
 * Back to $all, a number n becomes {commit: n, prepare: n}: for gRPC-written events both halves
 * are the record's log position, so that is exactly where the event starts.
 */

/** What the server sends (as -1 in a uint64) when it has no position for an event. */
export const ESDB_NO_POSITION = 0xffff_ffff_ffff_ffffn;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** An event's $all position as the port's number (its commit position). */
export function toPortPosition(position: Position | undefined): number {
  if (position === undefined || position.commit === ESDB_NO_POSITION || position.commit < 0n) {
    throw new Error('the server sent no $all position for an event (EventStoreDB 22.6+ / KurrentDB needed)');
  }
  if (position.commit === 0n) {
    // 0 is the port's "before the first event"; the log starts with an epoch record, never an event.
    throw new RangeError('an event at $all position 0 cannot be represented (0 means "before the first event")');
  }
  if (position.commit > MAX_SAFE) {
    throw new RangeError(`$all commit position ${position.commit} exceeds Number.MAX_SAFE_INTEGER: it cannot be a port position`);
  }
  return Number(position.commit);
}

/** The port's position as a $all position (where that event's record starts). */
export function toAllPosition(position: number): Position {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new RangeError(`a position is a safe integer >= 0, got ${position}`);
  }
  const commitPosition = BigInt(position);
  return { commit: commitPosition, prepare: commitPosition };
}

/** The port's expected revision for the client: NO_STREAM or an exact revision, never ANY. */
export function toExpectedRevision(expectedRevision: number): AppendExpectedRevision {
  if (expectedRevision === NO_STREAM) return ESDB_NO_STREAM;
  if (!Number.isSafeInteger(expectedRevision) || expectedRevision < 0) {
    throw new InvalidAppendError('expected revision must be an integer >= -1 (NO_STREAM)');
  }
  return BigInt(expectedRevision);
}

/** A stream revision from the client (bigint) as a number. */
export function toRevision(revision: bigint): number {
  if (revision < 0n || revision > MAX_SAFE) throw new RangeError(`stream revision ${revision} is out of the safe integer range`);
  return Number(revision);
}

/** The client's "current revision" of a conflict: -1 when the stream does not exist. */
export function toActualRevision(current: CurrentRevision): number {
  return current === ESDB_NO_STREAM ? NO_STREAM : toRevision(current);
}

/** Client append errors in the port's terms; anything else is returned unchanged. */
export function mapAppendError(error: unknown, streamId: string, expectedRevision: number): unknown {
  if (error instanceof WrongExpectedVersionError) {
    return new WrongExpectedRevisionError(streamId, expectedRevision, toActualRevision(error.actualVersion));
  }
  if (error instanceof MaxAppendSizeExceededError) {
    return new InvalidAppendError(`the append is larger than the server's maximum append size (${error.maxAppendSize} bytes)`);
  }
  return error;
}
