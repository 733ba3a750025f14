import { CancelledError, DeadlineExceededError, NotLeaderError, TimeoutError, UnavailableError, UnknownError } from '@eventstore/db-client';
import { FeedEndedError } from './eventstoredb-feed';

/** The server could not be asked (as opposed to an answer about the request). */
export function isConnectionError(error: unknown): boolean {
  return error instanceof UnavailableError || error instanceof NotLeaderError;
}

/**
 * The server is unreachable, not the leader, or did not answer in time, or a read of $all was
 * dropped: the same request or read may work later. (An append whose deadline passed has an
 * unknown outcome; repeating it with the same event ids is safe.)
 */
export function isTransientEventStoreDbError(error: unknown): boolean {
  return (
    isConnectionError(error) ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof CancelledError ||
    error instanceof FeedEndedError
  );
}

/**
 * Errors after which resubscribing from the checkpoint may work: the transient ones, and a
 * server-side drop the client reports as unknown (bounded by ESDB_SUBSCRIPTION_MAX_RETRIES).
 */
export function canResubscribeAfter(error: unknown): boolean {
  return isTransientEventStoreDbError(error) || error instanceof UnknownError;
}
