import {
  BACKWARDS,
  END,
  RecordedEvent as EsdbRecordedEvent,
  EventData,
  EventStoreDBClient,
  FORWARDS,
  ReadPosition,
  START,
  StreamNotFoundError,
  streamNameFilter,
} from '@eventstore/db-client';
import {
  AppendResult,
  BatchHandler,
  EventStore,
  EventToAppend,
  InvalidAppendError,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  WrongExpectedRevisionError,
  clampPageSize,
  validateAppend,
} from '../event-store.port';
import { GENESIS_HASH, eventHash } from '../chain/event-hash';
import { decodeEvents, matchesPrefixes, toEventData } from './eventstoredb-codec';
import { isConnectionError, isTransientEventStoreDbError } from './eventstoredb-errors';
import { AllFeed, PositionedEvent } from './eventstoredb-feed';
import { mapAppendError, toAllPosition, toExpectedRevision, toPortPosition, toRevision } from './eventstoredb-positions';
import { subscribeThroughFeeds } from './eventstoredb-subscription';
import { EventStoreObserver, observedAppend } from '../store-observer';

/**
 * The ledger's streams are `account-<id>` (libs/ledger/src/infrastructure/stream-names.ts). Any
 * '-' inside an id becomes '~': callers keep dashes out of ids, so the name has one '-' and
 * ESDB's category (the part before it, for $ce-/$by_category projections) is always `account`.
 */
export const DEFAULT_STREAM_PREFIXES: readonly string[] = ['account-'];
/** gRPC deadline of one append; on expiry the outcome is unknown and a retry with the same ids is safe. */
export const ESDB_APPEND_DEADLINE_MS = 10_000;
export const ESDB_PING_TIMEOUT_MS = 5_000;
/** A filtered read of $all fails after this long without any progress (event, checkpoint, "caught up"). */
export const ESDB_READ_ALL_IDLE_TIMEOUT_MS = 30_000;
/** Events a filtered read or a subscription buffers ahead of its reader. */
export const ESDB_READ_BUFFER_EVENTS = 1_000;
/** headPosition() scans $all backwards in pages of this many events (of any stream). */
export const ESDB_HEAD_SCAN_PAGE_SIZE = 500;
/** Streams whose last hash is remembered between appends (the rest cost one read per append). */
export const ESDB_CHAIN_CACHE_STREAMS = 50_000;

/** readStream() with `afterPosition` skips the older part of a stream in pages of at least this many events. */
export const ESDB_READ_STREAM_SCAN_PAGE_SIZE = 1_000;

export interface EventStoreDbOptions {
  /**
   * Stream-name prefixes that make up the ledger's global log: readAll, headPosition and
   * subscribeToAll see $all through a server-side filter on them, and append refuses streams
   * outside them (their events would never show up in the global log). Default ['account-'].
   */
  readonly streamPrefixes?: readonly string[];
}

/**
 * The event store on EventStoreDB 23.10+ / KurrentDB, over gRPC (@eventstore/db-client).
 *
 * - Appends send our event ids as the ESDB event ids with an exact expected revision (never ANY),
 *   so the server's own idempotency recognises a retry. The positions of an append are read back
 *   from the stream (the server answers one position per append, its last event's).
 * - The global log is $all filtered on the stream prefixes; a position is an event's $all commit
 *   position (see eventstoredb-positions.ts).
 * - Client 6.2.1 filters $all only in subscriptions, so readAll is a short filtered catch-up
 *   subscription that stops at the server's "caught up" (23.10+), and headPosition scans $all
 *   backwards, matching the prefixes client-side (cheap when the ledger's events dominate $all).
 * - Reads go where the connection string's node preference sends them; keep the default
 *   (leader) so a read sees every acknowledged append.
 */
export class EventStoreDbEventStore implements EventStore {
  private closed = false;
  private readonly subscriptions = new Set<Subscription>();

  /**
   * Connects (built on `EventStoreDBClient.connectionString`) and pings; e.g.
   * `esdb://localhost:2113?tls=false` (`kurrentdb://` and `kdb://` are accepted too).
   */
  static async connect(connectionString: string, options: EventStoreDbOptions = {}): Promise<EventStoreDbEventStore> {
    const client = EventStoreDBClient.connectionString(toEsdbConnectionString(connectionString));
    let store: EventStoreDbEventStore;
    try {
      store = EventStoreDbEventStore.fromClient(client, options);
      await store.ping();
    } catch (error) {
      await client.dispose().catch(() => undefined);
      throw error;
    }
    return store;
  }

  /** Over a client built by the caller (own credentials, certificates, client options); close() disposes it. */
  static fromClient(client: EventStoreDBClient, options: EventStoreDbOptions = {}): EventStoreDbEventStore {
    const prefixes = [...(options.streamPrefixes ?? DEFAULT_STREAM_PREFIXES)];
    if (prefixes.length === 0 || prefixes.some((prefix) => typeof prefix !== 'string' || prefix.length === 0)) {
      throw new RangeError('streamPrefixes must be one or more non-empty strings');
    }
    return new EventStoreDbEventStore(client, prefixes);
  }

  /** The last revision and hash of streams this process appended to (least recently used first). */
  private readonly lastHashes = new Map<string, { revision: number; hash: string }>();

  private constructor(
    private readonly client: EventStoreDBClient,
    readonly streamPrefixes: readonly string[],
  ) {}

  private observer: EventStoreObserver | undefined;

  observe(observer: EventStoreObserver): void {
    this.observer = observer;
  }

  append(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Promise<AppendResult> {
    return observedAppend(this.observer, events.length, () => this.appendNow(streamId, expectedRevision, events));
  }

  private async appendNow(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Promise<AppendResult> {
    this.assertOpen();
    validateAppend(streamId, expectedRevision, events);
    if (!matchesPrefixes(streamId, this.streamPrefixes)) {
      throw new InvalidAppendError(`stream ${streamId} is outside the global log (stream prefixes: ${this.streamPrefixes.join(', ')})`);
    }
    events.forEach((event) => toEventData(event)); // refuses what cannot be stored before anything is read
    const { proposed, lastHash } = await this.chainedEvents(streamId, expectedRevision, events);
    try {
      await this.client.appendToStream(streamId, proposed, {
        expectedRevision: toExpectedRevision(expectedRevision),
        deadline: ESDB_APPEND_DEADLINE_MS,
      });
    } catch (error) {
      const mapped = mapAppendError(error, streamId, expectedRevision);
      // The server answers a full retry with success itself; this also covers one it reports as a
      // conflict. Only a stream that moved past expectedRevision can hold the retried events.
      if (mapped instanceof WrongExpectedRevisionError && expectedRevision < mapped.actualRevision) {
        const first = await this.storedAppend(streamId, expectedRevision, events);
        if (first) return first;
      }
      throw mapped;
    }
    // A fresh append or a retry the server recognised: either way the events sit right after
    // expectedRevision, and reading them back gives each one's position (the first result's).
    const stored = await this.storedAppend(streamId, expectedRevision, events);
    if (!stored) {
      throw new Error(`append to ${streamId} was acknowledged, but revisions after ${expectedRevision} do not hold its events (stream deleted or truncated?)`);
    }
    this.rememberChain(streamId, stored.nextExpectedRevision, lastHash);
    return stored;
  }

  /**
   * The events with their account-chain links in metadata. The global position is assigned by the
   * server at commit, after this: EventStoreDB keeps the per-account chain only (docs/audit.md).
   * The stream's last hash comes from this process's last append to it, else one read.
   */
  private async chainedEvents(
    streamId: string,
    expectedRevision: number,
    events: readonly EventToAppend[],
  ): Promise<{ proposed: EventData[]; lastHash: string }> {
    let link = await this.lastHashOf(streamId, expectedRevision);
    const proposed = events.map((event, index) => {
      const previousAccountHash = link;
      link = eventHash({ ...event, streamId, revision: expectedRevision + 1 + index, position: null, previousAccountHash, previousGlobalHash: null });
      return toEventData(event, { hash: link, previousAccountHash });
    });
    return { proposed, lastHash: link };
  }

  private async lastHashOf(streamId: string, expectedRevision: number): Promise<string> {
    if (expectedRevision < 0) return GENESIS_HASH;
    const known = this.lastHashes.get(streamId);
    if (known?.revision === expectedRevision) return known.hash;
    const [last] = await this.readStreamPage(streamId, expectedRevision, 1, true);
    if (!last) return GENESIS_HASH; // the append then fails on its expected revision
    const [decoded] = decodeEvents([last], [toPortPosition(last.position)]);
    return decoded.chain?.hash ?? GENESIS_HASH;
  }

  private rememberChain(streamId: string, revision: number, hash: string): void {
    this.lastHashes.delete(streamId);
    this.lastHashes.set(streamId, { revision, hash });
    if (this.lastHashes.size > ESDB_CHAIN_CACHE_STREAMS) this.lastHashes.delete(this.lastHashes.keys().next().value as string);
  }

  /** The result of this append if its events are stored right after expectedRevision, in order. */
  private async storedAppend(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Promise<AppendResult | undefined> {
    const from = expectedRevision + 1;
    // From the leader: the append was acknowledged there, a follower may not have it yet.
    const stored = await this.readStreamPage(streamId, from, events.length, true);
    if (stored.length !== events.length) return undefined;
    for (let index = 0; index < events.length; index++) {
      // The server answers ids in lower case.
      if (toRevision(stored[index].revision) !== from + index || stored[index].id.toLowerCase() !== events[index].eventId.toLowerCase()) return undefined;
    }
    return { nextExpectedRevision: expectedRevision + events.length, positions: stored.map((event) => toPortPosition(event.position)) };
  }

  private async readStreamPage(streamId: string, fromRevision: number, maxCount: number, requiresLeader: boolean): Promise<EsdbRecordedEvent[]> {
    const out: EsdbRecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        fromRevision: BigInt(fromRevision),
        maxCount,
        direction: FORWARDS,
        resolveLinkTos: false,
        requiresLeader,
      });
      for await (const resolved of read) if (resolved.event) out.push(resolved.event as EsdbRecordedEvent);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return out;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = clampPageSize(options.limit);
    let next = options.fromRevision ?? 0;
    if (!Number.isSafeInteger(next) || next < 0) throw new RangeError('fromRevision must be an integer >= 0');
    const after = options.afterPosition;
    const picked: EsdbRecordedEvent[] = [];
    const positions: number[] = [];
    for (;;) {
      // Positions grow with revisions: with `afterPosition` the older part is skipped in big pages.
      const want = after === undefined ? limit - picked.length : Math.max(limit - picked.length, ESDB_READ_STREAM_SCAN_PAGE_SIZE);
      const page = await this.readStreamPage(streamId, next, want, false);
      for (const event of page) {
        const position = toPortPosition(event.position);
        if (after !== undefined && position <= after) continue;
        picked.push(event);
        positions.push(position);
        if (picked.length >= limit) break;
      }
      if (picked.length >= limit || page.length < want) break;
      next = toRevision(page[page.length - 1].revision) + 1;
    }
    return decodeEvents(picked, positions);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = clampPageSize(options.limit);
    const feed = await this.openFeed(options.after ?? 0, Math.min(limit, ESDB_READ_BUFFER_EVENTS));
    let page: PositionedEvent[];
    try {
      page = await feed.collect(limit, ESDB_READ_ALL_IDLE_TIMEOUT_MS);
    } finally {
      await feed.close();
    }
    return decodeEvents(
      page.map((positioned) => positioned.event),
      page.map((positioned) => positioned.position),
    );
  }

  /** A filtered $all subscription that yields exactly the events after `after`, in order. */
  private async openFeed(after: number, bufferEvents: number): Promise<AllFeed> {
    const start = await this.resolveStart(after);
    // eslint-disable-next-line prefer-const -- the filter's callback below closes over it before it is set
    let feed: AllFeed | undefined;
    const subscription = this.client.subscribeToAll(
      {
        fromPosition: start.from,
        resolveLinkTos: false,
        // The server sends a checkpoint every 32 events it looks at: progress while it skips others' events.
        filter: streamNameFilter({ prefixes: [...this.streamPrefixes], checkpointReached: () => feed?.touch() }),
      },
      { highWaterMark: bufferEvents },
    );
    const lead = start.lead && matchesPrefixes(start.lead.event.streamId, this.streamPrefixes) ? [start.lead] : [];
    feed = new AllFeed(subscription, after, lead);
    return feed;
  }

  /**
   * Where to subscribe so the feed starts right after `after`. A subscription from a position
   * skips the event there (the server reads it and starts after it), so `after` must be an
   * event's own position, which a one-event read from it confirms. Reading from a number that
   * is not where a record starts fails on the server; the port also accepts "one less than an
   * event's position" (the event itself is then the first one after), so that is tried next. When
   * the first event found lies past `after` (its own event was scavenged), it is handed over
   * first and the subscription continues after it.
   */
  private async resolveStart(after: number): Promise<{ from: ReadPosition; lead?: PositionedEvent }> {
    if (!Number.isSafeInteger(after) || after < 0) throw new RangeError(`a position is a safe integer >= 0, got ${after}`);
    if (after === 0) return { from: START };
    let first: PositionedEvent | undefined;
    try {
      first = await this.firstEventFrom(after);
    } catch (atError) {
      if (isConnectionError(atError)) throw atError; // says nothing about the position
      try {
        first = await this.firstEventFrom(after + 1);
      } catch (nextError) {
        if (isConnectionError(nextError)) throw nextError;
        // eslint-disable-next-line preserve-caught-error -- the read at the position itself is the telling failure
        throw new Error(`cannot read $all after position ${after}: it is neither an event's position nor one less than one`, { cause: atError });
      }
      if (!first) throw atError;
    }
    if (!first) throw new RangeError(`position ${after} is beyond the end of $all`);
    if (first.position === after) return { from: toAllPosition(after) };
    if (first.position < after) throw new Error(`reading $all from ${after} returned an earlier event (${first.position})`);
    return { from: toAllPosition(first.position), lead: first };
  }

  /** The first event of any stream at or after a $all position (unfiltered, one event). */
  private async firstEventFrom(position: number): Promise<PositionedEvent | undefined> {
    const read = this.client.readAll({ fromPosition: toAllPosition(position), maxCount: 1, direction: FORWARDS, resolveLinkTos: false });
    try {
      for await (const resolved of read) {
        if (resolved.event) return { position: toPortPosition(resolved.event.position), event: resolved.event };
      }
    } finally {
      cancelRead(read);
    }
    return undefined;
  }

  /** Position of the newest event in a stream with one of the prefixes (0 when none). */
  async headPosition(): Promise<number> {
    this.assertOpen();
    let from: ReadPosition = END;
    let below: bigint | undefined;
    for (;;) {
      let read = 0;
      let progressed = false;
      const page = this.client.readAll({ fromPosition: from, maxCount: ESDB_HEAD_SCAN_PAGE_SIZE, direction: BACKWARDS, resolveLinkTos: false });
      try {
        for await (const resolved of page) {
          read++;
          const recorded = resolved.event;
          if (!recorded) continue;
          // Other streams' positions are only compared, never converted (they need not be ours to map).
          if (below !== undefined && recorded.position.commit >= below) continue;
          below = recorded.position.commit;
          progressed = true;
          if (matchesPrefixes(recorded.streamId, this.streamPrefixes)) return toPortPosition(recorded.position);
        }
      } finally {
        cancelRead(page);
      }
      if (read < ESDB_HEAD_SCAN_PAGE_SIZE) return 0;
      if (!progressed || below === undefined) throw new Error('reading $all backwards made no progress');
      // Backwards from an event's own position: the page before it.
      from = { commit: below, prepare: below };
    }
  }

  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): Subscription {
    this.assertOpen();
    const subscription = subscribeThroughFeeds((after, bufferEvents) => this.openFeed(after, bufferEvents), options, handler);
    this.subscriptions.add(subscription);
    const forget = () => this.subscriptions.delete(subscription);
    subscription.done.then(forget, forget);
    return subscription;
  }

  /** Unreachable, not the leader, no answer in time, a read of $all dropped: see eventstoredb-errors.ts. */
  isTransientError(error: unknown): boolean {
    return isTransientEventStoreDbError(error);
  }

  /** A one-event read of $all: the server answers and this client may read the global log. */
  async ping(): Promise<void> {
    this.assertOpen();
    const read = this.client.readAll({ fromPosition: END, maxCount: 1, direction: BACKWARDS, resolveLinkTos: false });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        cancelRead(read);
        reject(new Error(`EventStoreDB did not answer a ping within ${ESDB_PING_TIMEOUT_MS} ms`));
      }, ESDB_PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([
        (async () => {
          for await (const resolved of read) void resolved; // drained: the answer itself is not needed
        })(),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the subscriptions still running, then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

/**
 * KurrentDB's own schemes as the esdb:// ones client 6.2.1 parses (same syntax otherwise), since
 * the ledger's configuration accepts both.
 */
export function toEsdbConnectionString(connectionString: string): string {
  return connectionString.replace(/^(?:kurrentdb|kdb)(\+discover)?:\/\//i, (_, discover: string | undefined) => `esdb${discover ?? ''}://`);
}

/**
 * Leaving a read before its end destroys only the client's Readable: the gRPC call under it would
 * stay open, paused. Cancelling it is harmless once the call is over.
 */
function cancelRead(read: { cancel(): Promise<void> }): void {
  read.cancel().catch(() => undefined);
}
