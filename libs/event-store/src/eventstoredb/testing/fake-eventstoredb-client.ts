import { Readable, ReadableOptions, Transform, TransformCallback } from 'node:stream';
import {
  AllStreamRecordedEvent,
  AppendExpectedRevision,
  AppendResult,
  EventData,
  Filter,
  MaxAppendSizeExceededError,
  Position,
  ReadPosition,
  ReadRevision,
  StreamNotFoundError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';

/**
 * An in-memory stand-in for the parts of `EventStoreDBClient` the adapter uses, modelled on the
 * server (KurrentDB source) and on @eventstore/db-client 6.2.1, so the adapter's own logic can run
 * the contract suite without a server. What it models, and the adapter relies on:
 * - positions are byte offsets of records in one log (commit = prepare = where the record
 *   starts); reading from a number that is not where a record starts fails, as on the server;
 *   removed (scavenged) events leave their position readable: it leads to the next record;
 * - append checks the expected revision like the server's CheckCommit: a retry whose ids sit at
 *   the revisions after the expected one is idempotent (success, nothing written); a first id
 *   that differs, or a later one (corrupted idempotency), is a wrong expected version;
 * - a subscription from a position starts AFTER the first event at or after it; a filtered
 *   subscription sends a checkpoint every 32 events it looks at, then "caught up", then live events;
 * - JSON data that does not parse comes back as its raw text, metadata as bytes (as the client does).
 * It is not the server: only the int spec against a real one proves the adapter.
 */

interface StoredRecord {
  readonly position: bigint;
  readonly streamId: string;
  readonly revision: bigint;
  readonly id: string;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  readonly created: Date;
}

type ServerMessage = { kind: 'event'; event: AllStreamRecordedEvent } | { kind: 'checkpoint'; position: Position } | { kind: 'caughtUp' };

/** Bytes a record takes beyond its payloads (lengths, flags, ids, timestamps). */
const RECORD_OVERHEAD_BYTES = 120;
/** The server's default checkpoint interval for filtered subscriptions (events looked at). */
const FILTER_CHECKPOINT_EVERY = 32;
/** The server's default MaxAppendSize. */
const DEFAULT_MAX_APPEND_SIZE = 1_048_576;
const FIRST_RECORD_POSITION = 256n; // the epoch record sits before the first event

interface StreamingReadLike<T> extends Readable {
  cancel(): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterableIterator<T>;
}

function streamingRead<T>(produce: () => T[]): StreamingReadLike<T> {
  const read = Readable.from(
    (async function* () {
      await new Promise((resolve) => setImmediate(resolve));
      yield* produce();
    })(),
    { objectMode: true },
  ) as StreamingReadLike<T>;
  read.cancel = async () => {
    read.destroy();
  };
  return read;
}

class FakeSubscription extends Transform {
  constructor(
    private readonly server: FakeEventStoreDbClient,
    readonly streamFilter: Filter | undefined,
    options: ReadableOptions,
  ) {
    super({ ...options, objectMode: true });
  }

  override _transform(message: ServerMessage, _encoding: BufferEncoding, next: TransformCallback): void {
    if (message.kind === 'event') return next(null, { event: message.event, commitPosition: message.event.position.commit });
    if (message.kind === 'caughtUp') {
      this.emit('caughtUp');
      return next();
    }
    void Promise.resolve(this.streamFilter?.checkpointReached?.(this as never, message.position)).then(() => next());
  }

  send(message: ServerMessage): void {
    if (!this.writableEnded) this.write(message);
  }

  matches(streamId: string): boolean {
    if (!this.streamFilter || !('prefixes' in this.streamFilter)) return true;
    return this.streamFilter.prefixes.some((prefix) => streamId.startsWith(prefix));
  }

  unsubscribed = false;

  async unsubscribe(): Promise<void> {
    this.unsubscribed = true;
    this.server.detach(this);
    setImmediate(() => this.end());
  }
}

export class FakeEventStoreDbClient {
  private readonly log: StoredRecord[] = [];
  private readonly streams = new Map<string, StoredRecord[]>();
  /** Positions of removed events: still readable, they lead to the next record. */
  private readonly removed = new Set<bigint>();
  private readonly live = new Set<FakeSubscription>();
  private end = FIRST_RECORD_POSITION;
  private disposed = false;
  maxAppendSize = DEFAULT_MAX_APPEND_SIZE;
  readonly calls = { appends: 0, subscriptions: 0 };
  /** While set, every call fails with the client's own UnavailableError, as when no node answers. */
  private unreachable = false;

  constructor() {
    // ESDB writes its own events first; they are not in any ledger stream.
    this.store('$epoch-information', '6b7e8c1a-0000-4000-8000-000000000001', '$epoch-information', true, '{"epoch":0}', '');
  }

  async appendToStream(
    streamName: string,
    events: EventData | EventData[],
    options: { expectedRevision?: AppendExpectedRevision } = {},
  ): Promise<AppendResult> {
    this.calls.appends++;
    await new Promise((resolve) => setImmediate(resolve));
    this.assertOpen();
    const list = Array.isArray(events) ? events : [events];
    const expected = options.expectedRevision ?? 'any';
    if (expected === 'any' || expected === 'stream_exists') throw new Error(`the adapter must always send an exact expected revision, got ${expected}`);
    const stream = this.streams.get(streamName) ?? [];
    const current = stream.length - 1;
    const wanted = expected === 'no_stream' ? -1 : Number(expected);
    const wrong = () => new WrongExpectedVersionError(undefined, { streamName, expected, current: current < 0 ? 'no_stream' : BigInt(current) });
    if (wanted < current) {
      // The server's idempotency check for an exact expected version.
      for (let index = 0; index < list.length; index++) {
        const stored = stream[wanted + 1 + index];
        if (stored === undefined || stored.id !== list[index].id.toLowerCase()) throw wrong(); // conflict, or corrupted idempotency
      }
      const last = stream[wanted + list.length];
      return { success: true, nextExpectedRevision: last.revision, position: undefined };
    }
    if (wanted > current) throw wrong();
    const encoded = list.map((event) => ({
      e: event,
      data: event.contentType === 'application/json' ? JSON.stringify(event.data) : Buffer.from(event.data as Uint8Array).toString('utf8'),
      metadata: event.metadata === undefined ? '' : JSON.stringify(event.metadata),
    }));
    const size = encoded.reduce((sequence, event) => sequence + event.data.length + event.metadata.length, 0);
    if (size > this.maxAppendSize) throw MaxAppendSizeExceededError.fromMaxAppendSize(this.maxAppendSize);
    let last: StoredRecord | undefined;
    for (const event of encoded)
      last = this.store(streamName, event.e.id, event.e.type, event.e.contentType === 'application/json', event.data, event.metadata);
    return { success: true, nextExpectedRevision: last!.revision, position: { commit: last!.position, prepare: last!.position } };
  }

  /** Writes an event as another program might (no checks): e.g. a payload that is not JSON. */
  appendRaw(streamName: string, event: { id: string; type: string; isJson: boolean; data: string; metadata?: string }): Position {
    const record = this.store(streamName, event.id, event.type, event.isJson, event.data, event.metadata ?? '');
    return { commit: record.position, prepare: record.position };
  }

  /** Drops a stream's events as a scavenge would; their positions stay readable (next record). */
  removeStream(streamName: string): void {
    for (const record of this.streams.get(streamName) ?? []) this.removed.add(record.position);
    this.streams.delete(streamName);
    for (let index = this.log.length - 1; index >= 0; index--) if (this.log[index].streamId === streamName) this.log.splice(index, 1);
  }

  private store(streamId: string, id: string, type: string, isJson: boolean, data: string, metadata: string): StoredRecord {
    const stream = this.streams.get(streamId) ?? [];
    const record: StoredRecord = {
      position: this.end,
      streamId,
      revision: BigInt(stream.length),
      id: id.toLowerCase(),
      type,
      isJson,
      data: Buffer.from(data, 'utf8'),
      metadata: Buffer.from(metadata, 'utf8'),
      created: new Date(),
    };
    this.end += BigInt(RECORD_OVERHEAD_BYTES + streamId.length + type.length + record.data.length + record.metadata.length);
    stream.push(record);
    this.streams.set(streamId, stream);
    this.log.push(record);
    for (const sub of this.live) if (sub.matches(streamId)) sub.send({ kind: 'event', event: convert(record) });
    return record;
  }

  readStream(streamName: string, options: { fromRevision?: ReadRevision; maxCount?: number | bigint; direction?: string } = {}) {
    return streamingRead(() => {
      this.assertOpen();
      if (options.direction === 'backwards') throw new Error('the fake reads streams forwards only');
      const stream = this.streams.get(streamName);
      if (!stream) throw new StreamNotFoundError(undefined, streamName);
      const from =
        options.fromRevision === undefined || options.fromRevision === 'start'
          ? 0n
          : options.fromRevision === 'end'
            ? BigInt(stream.length)
            : options.fromRevision;
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      return stream
        .filter((record) => record.revision >= from)
        .slice(0, max)
        .map((record) => ({ event: convert(record), commitPosition: record.position }));
    });
  }

  readAll(options: { fromPosition?: ReadPosition; maxCount?: number | bigint; direction?: string } = {}) {
    return streamingRead(() => {
      this.assertOpen();
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      const backwards = options.direction === 'backwards';
      const from = options.fromPosition ?? (backwards ? 'end' : 'start');
      let records: StoredRecord[];
      if (backwards) {
        const before = from === 'end' ? this.end + 1n : from === 'start' ? 0n : this.boundary(from);
        records = this.log.filter((record) => record.position < before).reverse();
      } else {
        const at = from === 'start' ? 0n : from === 'end' ? this.end : this.boundary(from);
        records = this.log.filter((record) => record.position >= at);
      }
      return records.slice(0, max).map((record) => ({ event: convert(record), commitPosition: record.position }));
    });
  }

  subscribeToAll(options: { fromPosition?: ReadPosition; filter?: Filter; resolveLinkTos?: boolean } = {}, readableOptions: ReadableOptions = {}) {
    this.calls.subscriptions++;
    const sub = new FakeSubscription(this, options.filter, readableOptions);
    setImmediate(() => {
      if (sub.unsubscribed) return;
      try {
        this.assertOpen();
        const from = options.fromPosition ?? 'start';
        let start = 0;
        if (from === 'end') start = this.log.length;
        else if (from !== 'start') {
          // Like the server: read the one event at or after the position, start after it.
          const at = this.boundary(from);
          const first = this.log.findIndex((record) => record.position >= at);
          start = first < 0 ? this.log.length : first + 1;
        }
        let considered = 0;
        for (const record of this.log.slice(start)) {
          if (sub.matches(record.streamId)) sub.send({ kind: 'event', event: convert(record) });
          if (++considered % FILTER_CHECKPOINT_EVERY === 0) sub.send({ kind: 'checkpoint', position: { commit: record.position, prepare: record.position } });
        }
        sub.send({ kind: 'caughtUp' });
        this.live.add(sub);
      } catch (caught) {
        sub.emit('error', caught);
      }
    });
    return sub;
  }

  detach(sub: FakeSubscription): void {
    this.live.delete(sub);
  }

  /** Live subscriptions (not yet unsubscribed). */
  liveSubscriptions(): number {
    return this.live.size;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const sub of this.live) sub.end();
    this.live.clear();
  }

  /** Where reading from `p` starts; a number inside a record is refused, as the server does. */
  private boundary(readFrom: Position): bigint {
    const commitPosition = readFrom.commit;
    if (commitPosition === this.end || this.removed.has(commitPosition) || this.log.some((record) => record.position === commitPosition)) return commitPosition;
    throw new UnknownError(undefined, `Invalid position ${commitPosition}: not where a record starts`);
  }

  /**
   * The server goes away (true) or comes back (false). Meanwhile every call fails with the real
   * UnavailableError of @eventstore/db-client, and live subscriptions are dropped with it.
   */
  setUnavailable(unavailable: boolean): void {
    this.unreachable = unavailable;
    if (!unavailable) return;
    for (const subscription of this.live) subscription.destroy(unavailableError());
    this.live.clear();
  }

  private assertOpen(): void {
    if (this.disposed) throw new Error('client is disposed');
    if (this.unreachable) throw unavailableError();
  }
}

/** What the client raises when no node answers (gRPC status UNAVAILABLE). */
function unavailableError(): UnavailableError {
  return new UnavailableError(undefined, '14 UNAVAILABLE: No connection established (fake server is down)');
}

/** A stored record as the client hands it back. */
function convert(record: StoredRecord): AllStreamRecordedEvent {
  const text = Buffer.from(record.data).toString('utf8');
  let data: unknown = record.data;
  if (record.isJson) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text; // the client's fallback: the raw text
    }
  }
  let metadata: unknown;
  if (record.metadata.length > 0) {
    try {
      metadata = JSON.parse(Buffer.from(record.metadata).toString('utf8'));
    } catch {
      metadata = record.metadata;
    }
  }
  return {
    streamId: record.streamId,
    id: record.id,
    revision: record.revision,
    type: record.type,
    data,
    metadata,
    isJson: record.isJson,
    created: record.created,
    position: { commit: record.position, prepare: record.position },
  } as AllStreamRecordedEvent;
}
