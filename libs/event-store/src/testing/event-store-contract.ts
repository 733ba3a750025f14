import { randomUUID } from 'node:crypto';
import {
  EventStore,
  EventToAppend,
  InvalidAppendError,
  NO_STREAM,
  RecordedEvent,
  SubscriptionFailedError,
  WrongExpectedRevisionError,
} from '../event-store.port';
import { anEvent, waitFor } from './fixtures';

/** A stream of its own for each test, so a shared database is fine. */
const stream = (label: string) => `contract_${label}-${randomUUID().replace(/-/g, '')}`;
/** The contract's events carry nested JSON and distinct metadata, to catch lossy encodings. */
const ev = (sequence: number, extra: Partial<EventToAppend> = {}): EventToAppend =>
  anEvent(sequence, {
    data: { n: sequence, nested: { list: [1, 2, 3], text: 'é "quoted" \n line' } },
    metadata: {
      schemaVersion: 1,
      occurredAt: '2026-11-01T00:00:00.000Z',
      recordedAt: new Date().toISOString(),
      actor: 'contract',
      correlationId: 'corr',
      causationId: `cause-${sequence}`,
    },
    ...extra,
  });
const ns = (events: readonly RecordedEvent[]) => events.map((event) => (event.data as { n: number }).n);

/**
 * The contract every event-store adapter passes. Call it from an adapter's `*.int.spec.ts` with a
 * factory that gives a store on a real backend; streams are unique per test, so a shared
 * database is fine.
 */
export function describeEventStoreContract(adapterName: string, openStore: () => Promise<EventStore>): void {
  describe(`event store contract: ${adapterName}`, () => {
    let store: EventStore;
    beforeAll(async () => {
      store = await openStore();
    });
    afterAll(async () => {
      await store.close();
    });
    const openedStore = () => store;
    describeAppendContract(openedStore);
    describeRetryAndValidationContract(openedStore);
    describeReadContract(openedStore);
    describeStreamListingContract(openedStore);
    describeSubscriptionContract(openedStore);
  });
}

/** Appends: order, revisions, conflicts, atomicity. Each group is registered inside the contract's describe, after the store is opened. */
function describeAppendContract(openedStore: () => EventStore): void {
  let store: EventStore;
  beforeAll(() => {
    store = openedStore();
  });

  it('appends to a new stream and reads it back in order with revisions from 0', async () => {
    const streamName = stream('order');
    const events = [ev(1), ev(2), ev(3)];
    const result = await store.append(streamName, NO_STREAM, events);
    expect(result.nextExpectedRevision).toBe(2);
    expect(result.positions).toHaveLength(3);
    expect([...result.positions].sort((left, right) => left - right)).toEqual(result.positions);
    const read = await store.readStream(streamName);
    expect(read.map((event) => event.revision)).toEqual([0, 1, 2]);
    expect(read.map((event) => event.eventId)).toEqual(events.map((event) => event.eventId));
    expect(read.map((event) => event.position)).toEqual(result.positions);
    expect(read[0]).toMatchObject({ streamId: streamName, type: 'ThingHappened', data: events[0].data, metadata: events[0].metadata });
    await store.append(streamName, 2, [ev(4)]);
    expect(ns(await store.readStream(streamName))).toEqual([1, 2, 3, 4]);
  });

  it('refuses a wrong expected revision with the typed error, and writes nothing', async () => {
    const streamName = stream('conflict');
    await store.append(streamName, NO_STREAM, [ev(1), ev(2)]);
    await expect(store.append(streamName, 0, [ev(3)])).rejects.toMatchObject({
      name: 'WrongExpectedRevisionError',
      streamId: streamName,
      expectedRevision: 0,
      actualRevision: 1,
    });
    await expect(store.append(streamName, NO_STREAM, [ev(3)])).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await expect(store.append(streamName, 5, [ev(3)])).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await expect(store.append(stream('missing'), 0, [ev(1)])).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(ns(await store.readStream(streamName))).toEqual([1, 2]);
  });

  it('lets exactly one of concurrent appends at the same expected revision win', async () => {
    const streamId = stream('race');
    await store.append(streamId, NO_STREAM, [ev(0)]);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, index) => store.append(streamId, 0, [ev(index + 1), ev(100 + index)])));
    expect(outcomes.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of outcomes) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(WrongExpectedRevisionError);
    const read = await store.readStream(streamId);
    expect(read.map((event) => event.revision)).toEqual([0, 1, 2]);
  });

  it('is atomic per append: an append that fails leaves no partial events, and does not fail its neighbours', async () => {
    const streamId = stream('atomic');
    const other = stream('other');
    await store.append(other, NO_STREAM, [ev(0)]);
    const [good, bad] = await Promise.allSettled([store.append(streamId, NO_STREAM, [ev(1)]), store.append(other, 5, [ev(2), ev(3), ev(4)])]);
    expect(good.status).toBe('fulfilled');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect(ns(await store.readStream(other))).toEqual([0]);
    expect(ns(await store.readStream(streamId))).toEqual([1]);
  });
}

/** Idempotent retries and validation of appends. */
function describeRetryAndValidationContract(openedStore: () => EventStore): void {
  let store: EventStore;
  beforeAll(() => {
    store = openedStore();
  });

  it('treats a retried append (same stream, expected revision and event ids) as the first one, even after the stream moved on', async () => {
    const streamId = stream('idem');
    const events = [ev(1), ev(2)];
    const first = await store.append(streamId, NO_STREAM, events);
    const again = await store.append(streamId, NO_STREAM, events);
    expect(again).toEqual(first);
    await store.append(streamId, 1, [ev(3)]);
    expect(await store.append(streamId, NO_STREAM, events)).toEqual(first);
    expect(ns(await store.readStream(streamId))).toEqual([1, 2, 3]);
    // Not the same append: a conflict, nothing written.
    await expect(store.append(streamId, NO_STREAM, [events[0], ev(9)])).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await expect(store.append(streamId, NO_STREAM, [events[1]])).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(ns(await store.readStream(streamId))).toEqual([1, 2, 3]);
  });

  it('rejects malformed appends', async () => {
    const streamId = stream('invalid');
    await expect(store.append(streamId, NO_STREAM, [])).rejects.toBeInstanceOf(InvalidAppendError);
    const event = ev(1);
    await expect(store.append(streamId, NO_STREAM, [event, event])).rejects.toBeInstanceOf(InvalidAppendError);
    await expect(store.append(streamId, -2, [ev(1)])).rejects.toBeInstanceOf(InvalidAppendError);
    expect(await store.readStream(streamId)).toEqual([]);
  });
}

/** Reads: paging by revision and position, one global order. */
function describeReadContract(openedStore: () => EventStore): void {
  let store: EventStore;
  beforeAll(() => {
    store = openedStore();
  });

  it('pages a stream by revision and by position, and the global log by position', async () => {
    const streamName = stream('paging');
    const result = await store.append(
      streamName,
      NO_STREAM,
      Array.from({ length: 25 }, (_, index) => ev(index)),
    );
    expect(ns(await store.readStream(streamName, { fromRevision: 10, limit: 5 }))).toEqual([10, 11, 12, 13, 14]);
    expect(ns(await store.readStream(streamName, { fromRevision: 24, limit: 5 }))).toEqual([24]);
    expect(await store.readStream(streamName, { fromRevision: 25 })).toEqual([]);
    expect(ns(await store.readStream(streamName, { afterPosition: result.positions[19], limit: 3 }))).toEqual([20, 21, 22]);
    const page = await store.readAll({ after: result.positions[4], limit: 7 });
    expect(page).toHaveLength(7);
    expect(page[0].position).toBeGreaterThan(result.positions[4]);
    expect(ns(page.filter((event) => event.streamId === streamName))).toEqual(
      [5, 6, 7, 8, 9, 10, 11].slice(0, page.filter((event) => event.streamId === streamName).length),
    );
    expect(await store.headPosition()).toBeGreaterThanOrEqual(result.positions[24]);
    // A reader that does not check the hash chains gets the same events, `chain` aside: a short
    // page and a long one (SQLite reads those in a reader thread).
    const chainless = (events: RecordedEvent[]) => events.map((event) => ({ ...event, chain: undefined }));
    for (const limit of [7, 25]) {
      const chained = await store.readAll({ after: result.positions[0] - 1, limit });
      expect(chained.filter((event) => event.streamId === streamName).length).toBeGreaterThan(0);
      expect(chainless(await store.readAll({ after: result.positions[0] - 1, limit, withoutChain: true }))).toEqual(chainless(chained));
    }
  });

  it('keeps one global order across concurrent appends to many streams', async () => {
    const before = await store.headPosition();
    const streams = Array.from({ length: 20 }, (_, index) => stream(`global${index}`));
    await Promise.all(
      streams.map(async (streamId) => {
        let rev = NO_STREAM;
        for (let index = 0; index < 10; index++) rev = (await store.append(streamId, rev, [ev(index)])).nextExpectedRevision;
      }),
    );
    const all: RecordedEvent[] = [];
    for (let after = before; ;) {
      const page = await store.readAll({ after, limit: 37 });
      if (page.length === 0) break;
      all.push(...page);
      after = page[page.length - 1].position;
    }
    const ours = all.filter((event) => streams.includes(event.streamId));
    expect(ours).toHaveLength(200);
    for (let index = 1; index < all.length; index++) expect(all[index].position).toBeGreaterThan(all[index - 1].position);
    for (const streamName of streams)
      expect(ours.filter((event) => event.streamId === streamName).map((event) => event.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
}

/** Subscriptions: catch-up then live from a checkpoint, and failing handlers. */
function describeSubscriptionContract(openedStore: () => EventStore): void {
  let store: EventStore;
  beforeAll(() => {
    store = openedStore();
  });

  it('subscribes from a checkpoint: catch-up, then live, and resumes without gaps or repeats', async () => {
    const streamName = stream('sub');
    const first = await store.append(streamName, NO_STREAM, [ev(1), ev(2), ev(3)]);
    const checkpoint = first.positions[0];
    const seen: RecordedEvent[] = [];
    let inHandler = false;
    const sub = store.subscribeToAll({ after: checkpoint, batchSize: 2 }, async (batch) => {
      expect(inHandler).toBe(false); // batches never overlap
      inHandler = true;
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(...batch.filter((event) => event.streamId === streamName));
      inHandler = false;
    });
    await waitFor(() => seen.length === 2);
    await store.append(streamName, 2, [ev(4)]);
    await store.append(streamName, 3, [ev(5)]);
    await waitFor(() => seen.length === 4);
    await sub.stop();
    await sub.done;
    expect(ns(seen)).toEqual([2, 3, 4, 5]);

    // Resume from the last handled position: only what came after.
    await store.append(streamName, 4, [ev(6)]);
    const resumed: RecordedEvent[] = [];
    const sub2 = store.subscribeToAll({ after: seen[seen.length - 1].position }, (batch) => {
      resumed.push(...batch.filter((event) => event.streamId === streamName));
    });
    await waitFor(() => resumed.length === 1);
    await sub2.stop();
    expect(ns(resumed)).toEqual([6]);
  });

  it('stops a subscription whose handler fails, naming the position', async () => {
    const streamId = stream('poison');
    const result = await store.append(streamId, NO_STREAM, [ev(1)]);
    const sub = store.subscribeToAll({ after: result.positions[0] - 1 }, () => {
      throw new Error('cannot decode');
    });
    await expect(sub.done).rejects.toBeInstanceOf(SubscriptionFailedError);
    await expect(sub.done).rejects.toMatchObject({ position: result.positions[0] });
  });
}

/** The optional listing of the longest streams (the warm-up after a start). */
function describeStreamListingContract(openedStore: () => EventStore): void {
  let store: EventStore;
  beforeAll(() => {
    store = openedStore();
  });

  it('lists the longest streams of a prefix, longest first (where the adapter offers it)', async () => {
    if (!store.longestStreams) {
      // Optional: EventStoreDB has no index to answer it in one pass, and its adapter leaves it out.
      expect(store.constructor.name).toBe('EventStoreDbEventStore');
      return;
    }
    const prefix = `longest${randomUUID().replace(/-/g, '')}_`;
    for (const [name, length] of [
      ['a', 3],
      ['b', 7],
      ['c', 1],
    ] as const)
      await store.append(
        `${prefix}${name}`,
        NO_STREAM,
        Array.from({ length }, (_, index) => ev(index)),
      );
    await store.append(
      `other${prefix}`,
      NO_STREAM,
      Array.from({ length: 9 }, (_, index) => ev(index)),
    ); // not under the prefix
    expect(await store.longestStreams(prefix, 2)).toEqual([
      { streamId: `${prefix}b`, events: 7 },
      { streamId: `${prefix}a`, events: 3 },
    ]);
  });
}
