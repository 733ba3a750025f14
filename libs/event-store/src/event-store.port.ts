import { UnreadableEventError } from './errors';
import type { EventStoreObserver } from './store-observer';
/**
 * The one event-store port. Adapters (embedded SQLite today; PostgreSQL and EventStoreDB next)
 * must all pass `testing/event-store-contract.ts`.
 */

/** Expected revision of a stream that must not exist yet. Revisions of events start at 0. */
export const NO_STREAM = -1;

export const MAX_EVENTS_PER_APPEND = 10_000;
export const MAX_READ_PAGE_SIZE = 10_000;
export const DEFAULT_READ_PAGE_SIZE = 1_000;
export const MAX_STREAM_ID_LENGTH = 200;

export interface EventMetadata {
  readonly schemaVersion: number;
  /** Business time. */
  readonly occurredAt: string;
  /** When the ledger accepted the command. */
  readonly recordedAt: string;
  readonly actor: string;
  readonly correlationId: string;
  readonly causationId: string;
}

export interface EventToAppend {
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

/** The hash-chain links of a stored event, lowercase hex SHA-256 (docs/audit.md). */
export interface EventChain {
  readonly hash: string;
  /** The hash of the stream's previous event (GENESIS_HASH for its first). */
  readonly previousAccountHash: string;
  /** The hash of the previous event of the global log (GENESIS_HASH for the first; absent where a store keeps no global chain). */
  readonly previousGlobalHash?: string;
}

export interface RecordedEvent<D = unknown> {
  readonly streamId: string;
  readonly revision: number;
  /** Place in the global log: strictly increasing in commit order, never reused. */
  readonly position: number;
  readonly eventId: string;
  readonly type: string;
  readonly data: D;
  readonly metadata: EventMetadata;
  /** Present where the store keeps the hash chains (absent on events not hashed yet, or with hashing off). */
  readonly chain?: EventChain;
}

export interface AppendResult {
  /** Revision of the last event appended: the expected revision of the next append. */
  readonly nextExpectedRevision: number;
  /** Global positions of the appended events, in order. */
  readonly positions: readonly number[];
}

export interface ReadStreamOptions {
  /** Inclusive. Default 0. */
  readonly fromRevision?: number;
  /** Only events whose global position is greater than this. */
  readonly afterPosition?: number;
  readonly limit?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events with a position greater than this. Default 0 (from the start). */
  readonly after?: number;
  readonly limit?: number;
  /**
   * The reader does not check the hash chains (projections): a store may leave `chain` out where
   * reading it costs (SQLite: a third of a page's read). Default false: `chain` as stored.
   */
  readonly withoutChain?: boolean;
}

export interface SubscribeOptions {
  /** The checkpoint: the position of the last event the subscriber has fully handled (0 = none). */
  readonly after: number;
  readonly batchSize?: number;
  /**
   * Told of each read of the log that failed for a reason that may pass (lost connection, server
   * restart); the subscription waits `delayMs` and reads again from its checkpoint. Errors that
   * cannot pass end the subscription (`done` rejects) instead.
   */
  readonly onReadRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export interface StreamLength {
  readonly streamId: string;
  readonly events: number;
}

export interface Subscription {
  /** Stops after the batch in hand; resolves when stopped. */
  stop(): Promise<void>;
  /** Settles when the subscription ends: resolves on stop, rejects with SubscriptionFailedError. */
  readonly done: Promise<void>;
}

export type BatchHandler = (events: readonly RecordedEvent[]) => Promise<void> | void;

export interface EventStore {
  /**
   * Appends atomically (all or none) if the stream is at `expectedRevision` (NO_STREAM for a new
   * stream). Idempotent: repeating an append (same stream, same expected revision, same event ids)
   * that is already stored answers with its first result and writes nothing.
   */
  append(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Position of the newest event in the global log (0 when empty). */
  headPosition(): Promise<number>;
  /**
   * Optional: the `limit` longest streams whose name starts with `prefix`, longest first, with
   * their length in events (one pass over the stream index, off the event loop). For what is
   * worth preparing after a start; adapters that cannot answer cheaply leave it out.
   */
  longestStreams?(prefix: string, limit: number): Promise<StreamLength[]>;
  /** Catch-up from `after`, then live, in batches; the handler's batches never overlap. */
  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): Subscription;
  /** Liveness probe for health checks. */
  ping(): Promise<void>;
  /**
   * Whether an error this store threw may pass on its own: the database is unreachable,
   * restarting or busy, not the request. The same request or read may then work later (the API
   * answers 503 STORE_UNAVAILABLE, the projections retry). Each adapter knows its own driver's
   * errors; nothing outside an adapter needs to.
   */
  isTransientError(error: unknown): boolean;
  /**
   * Optional: reports append latencies and group-commit sizes to `observer` from now on (one
   * observer; a later call replaces it). Adapters without group commit report appends only.
   */
  observe?(observer: EventStoreObserver): void;
  close(): Promise<void>;
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedRevision: number,
    readonly actualRevision: number,
  ) {
    super(`stream ${streamId} is at revision ${actualRevision}, expected ${expectedRevision}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

export class InvalidAppendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAppendError';
  }
}

export class SubscriptionFailedError extends Error {
  constructor(
    readonly position: number,
    override readonly cause: unknown,
  ) {
    super(`subscription stopped at position ${position}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SubscriptionFailedError';
  }
}

/**
 * A stored event the adapter cannot decode (e.g. a corrupted payload). Never skipped: reads fail
 * at it, naming its position; `decodedBefore` carries the page's events before it, so a
 * subscriber can handle those and stop exactly at the bad one.
 */
export class CorruptEventError extends UnreadableEventError {
  constructor(
    position: number,
    readonly streamId: string,
    readonly revision: number,
    override readonly cause: unknown,
    readonly decodedBefore: readonly RecordedEvent[] = [],
  ) {
    super(
      position,
      `the event at position ${position} (stream ${streamId}, revision ${revision}) cannot be decoded: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'CorruptEventError';
  }
}

export function validateAppend(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): void {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > MAX_STREAM_ID_LENGTH) {
    throw new InvalidAppendError(`stream id must be 1..${MAX_STREAM_ID_LENGTH} characters`);
  }
  if (!Number.isSafeInteger(expectedRevision) || expectedRevision < NO_STREAM) {
    throw new InvalidAppendError('expected revision must be an integer >= -1 (NO_STREAM)');
  }
  if (events.length === 0 || events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidAppendError(`an append carries 1..${MAX_EVENTS_PER_APPEND} events`);
  }
  const ids = new Set<string>();
  for (const recorded of events) {
    if (ids.has(recorded.eventId)) throw new InvalidAppendError(`event id ${recorded.eventId} appears twice in one append`);
    ids.add(recorded.eventId);
  }
}

export function clampPageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_READ_PAGE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  return Math.min(limit, MAX_READ_PAGE_SIZE);
}
