import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { AllStreamRecordedEvent, AllStreamSubscription, EventStoreDBClient } from '@eventstore/db-client';
import { describeEventStoreContract } from '../testing/event-store-contract';
import { CorruptEventError, InvalidAppendError, NO_STREAM, RecordedEvent, SubscriptionFailedError } from '../event-store.port';
import { EventStoreDbEventStore, toEsdbConnectionString } from './eventstoredb-event-store';
import { AllFeed } from './eventstoredb-feed';
import { toPortPosition } from './eventstoredb-positions';
import { FakeEventStoreDbClient } from './testing/fake-eventstoredb-client';
import { TEST_EVENT_METADATA, anEvent, waitFor } from '../testing/fixtures';
import { GENESIS_HASH } from '../chain/event-hash';
import { verifyAccountChain } from '../chain/verify-chain';

// The adapter's own logic (idempotent retries, position resolution, filtered reads, the
// subscription loop) over an in-memory model of the client and server. The int spec runs the
// same contract against a real server.

const asClient = (fake: FakeEventStoreDbClient) => fake as unknown as EventStoreDBClient;

describeEventStoreContract('eventstoredb adapter over a fake client', async () =>
  EventStoreDbEventStore.fromClient(asClient(new FakeEventStoreDbClient()), { streamPrefixes: ['contract_'] }),
);

const ev = anEvent;
const ns = (events: readonly RecordedEvent[]) => events.map((event) => (event.data as { n: number }).n);

describe('eventstoredb adapter over a fake client', () => {
  describeAppendsOverFakeClient();
  describeReadsOverFakeClient();
  describeDeliveryOverFakeClient();
  describeStoppingOverFakeClient();
});

/** Connection strings, prefixes and appends of the adapter over the fake client. */
function describeAppendsOverFakeClient(): void {
  let fake: FakeEventStoreDbClient;
  let store: EventStoreDbEventStore;
  beforeEach(() => {
    fake = new FakeEventStoreDbClient();
    store = EventStoreDbEventStore.fromClient(asClient(fake), { streamPrefixes: ['account-'] });
  });
  afterEach(async () => {
    await store.close();
  });

  it('takes KurrentDB connection-string schemes as the esdb ones the client parses', () => {
    expect(toEsdbConnectionString('kurrentdb://localhost:2113?tls=false')).toBe('esdb://localhost:2113?tls=false');
    expect(toEsdbConnectionString('kdb+discover://a:2113,b:2113')).toBe('esdb+discover://a:2113,b:2113');
    expect(toEsdbConnectionString('esdb://admin:changeit@localhost:2113')).toBe('esdb://admin:changeit@localhost:2113');
    expect(() => EventStoreDBClient.connectionString(toEsdbConnectionString('kurrentdb://localhost:2113?tls=false'))).not.toThrow();
  });

  it('defaults to the ledger prefix and refuses appends outside the global log', async () => {
    expect(EventStoreDbEventStore.fromClient(asClient(new FakeEventStoreDbClient())).streamPrefixes).toEqual(['account-']);
    expect(() => EventStoreDbEventStore.fromClient(asClient(fake), { streamPrefixes: [] })).toThrow(RangeError);
    await expect(store.append('other-1', NO_STREAM, [ev(1)])).rejects.toBeInstanceOf(InvalidAppendError);
    await expect(store.append('account-a', NO_STREAM, [{ ...ev(1), eventId: 'not-a-uuid' }])).rejects.toBeInstanceOf(InvalidAppendError);
    await expect(store.append('account-a', NO_STREAM, [{ ...ev(1), data: 'text' }])).rejects.toBeInstanceOf(InvalidAppendError);
    expect(fake.calls.appends).toBe(0);
  });

  it('maps the server limit on append size to InvalidAppendError', async () => {
    fake.maxAppendSize = 10;
    await expect(store.append('account-a', NO_STREAM, [ev(1)])).rejects.toThrow(/maximum append size \(10 bytes\)/);
  });

  it('answers a retry with the first result while the stream moved on, from the server idempotency', async () => {
    const events = [ev(1), ev(2)];
    const first = await store.append('account-a', NO_STREAM, events);
    await store.append('account-a', 1, [ev(3)]);
    expect(await store.append('account-a', NO_STREAM, events)).toEqual(first);
    expect(await store.append('account-a', NO_STREAM, [{ ...events[0], eventId: events[0].eventId.toUpperCase() }, events[1]])).toEqual(first);
  });
}

/** Reads of the global log and of streams over the fake client: filtering, heads, positions, paging. */
function describeReadsOverFakeClient(): void {
  let fake: FakeEventStoreDbClient;
  let store: EventStoreDbEventStore;
  beforeEach(() => {
    fake = new FakeEventStoreDbClient();
    store = EventStoreDbEventStore.fromClient(asClient(fake), { streamPrefixes: ['account-'] });
  });
  afterEach(async () => {
    await store.close();
  });

  it('keeps other streams out of readAll, headPosition and subscriptions', async () => {
    const result = await store.append('account-a', NO_STREAM, [ev(1)]);
    fake.appendRaw('$stats-node', { id: randomUUID(), type: 'stats', isJson: true, data: '{}' });
    fake.appendRaw('other-b', { id: randomUUID(), type: 'x', isJson: true, data: '{"n":99}' });
    expect(await store.headPosition()).toBe(result.positions[0]);
    expect(ns(await store.readAll())).toEqual([1]);
    const outcome = await store.append('account-b', NO_STREAM, [ev(2)]);
    expect(ns(await store.readAll({ after: result.positions[0] }))).toEqual([2]);
    expect(await store.headPosition()).toBe(outcome.positions[0]);
  });

  it('answers 0 for the head of a log without ledger events, after scanning pages of other events', async () => {
    for (let index = 0; index < 1_200; index++) fake.appendRaw(`other-${index}`, { id: randomUUID(), type: 'x', isJson: true, data: '{}' });
    expect(await store.headPosition()).toBe(0);
    const result = await store.append('account-a', NO_STREAM, [ev(1)]);
    for (let index = 0; index < 1_200; index++) fake.appendRaw(`other-x${index}`, { id: randomUUID(), type: 'x', isJson: true, data: '{}' });
    expect(await store.headPosition()).toBe(result.positions[0]);
    expect(ns(await store.readAll())).toEqual([1]); // the filter skips 2,400 others (checkpoints keep the read alive)
  });

  it('reads after one less than an event position, and after an event that was scavenged', async () => {
    const result = await store.append('account-a', NO_STREAM, [ev(1), ev(2)]);
    const gone = await store.append('account-gone', NO_STREAM, [ev(3)]);
    const outcome = await store.append('account-b', NO_STREAM, [ev(4)]);
    expect(ns(await store.readAll({ after: result.positions[1] - 1 }))).toEqual([2, 3, 4]);
    fake.removeStream('account-gone');
    expect(ns(await store.readAll({ after: gone.positions[0] }))).toEqual([4]);
    expect(ns(await store.readAll({ after: gone.positions[0] - 1 }))).toEqual([4]);
    await expect(store.readAll({ after: result.positions[0] + 1 })).rejects.toThrow(/neither an event's position nor one less than one/);
    await expect(store.readAll({ after: outcome.positions[0] + 10_000 })).rejects.toThrow();
    const seen: number[] = [];
    const sub = store.subscribeToAll({ after: gone.positions[0] }, (batch) => {
      seen.push(...ns(batch));
    });
    await waitFor(() => seen.length === 1);
    await store.append('account-b', 0, [ev(5)]);
    await waitFor(() => seen.length === 2);
    await sub.stop();
    expect(seen).toEqual([4, 5]);
  });

  it('pages a long stream after a position', async () => {
    const result = await store.append(
      'account-a',
      NO_STREAM,
      Array.from({ length: 2_500 }, (_, index) => ev(index)),
    );
    expect(ns(await store.readStream('account-a', { afterPosition: result.positions[2_300], limit: 3 }))).toEqual([2_301, 2_302, 2_303]);
    expect(await store.readStream('account-a', { afterPosition: result.positions[2_499] })).toEqual([]);
    expect(await store.readStream('account-none')).toEqual([]);
  });
}

/** What reads and subscriptions hand over: never past an undecodable event, in bounded batches. */
function describeDeliveryOverFakeClient(): void {
  let fake: FakeEventStoreDbClient;
  let store: EventStoreDbEventStore;
  beforeEach(() => {
    fake = new FakeEventStoreDbClient();
    store = EventStoreDbEventStore.fromClient(asClient(fake), { streamPrefixes: ['account-'] });
  });
  afterEach(async () => {
    await store.close();
  });

  it('never skips an undecodable event: reads fail at it, a subscription hands over what precedes it and stops there', async () => {
    const result = await store.append('account-a', NO_STREAM, [ev(1), ev(2)]);
    const bad = toPortPosition(fake.appendRaw('account-a', { id: randomUUID(), type: 'ThingHappened', isJson: true, data: 'not json {' }));
    await expect(store.readAll()).rejects.toMatchObject({
      name: 'CorruptEventError',
      position: bad,
      decodedBefore: [{ position: result.positions[0] }, { position: result.positions[1] }],
    });
    await expect(store.readStream('account-a', { fromRevision: 2 })).rejects.toBeInstanceOf(CorruptEventError);
    const handled: number[] = [];
    const sub = store.subscribeToAll({ after: 0 }, (batch) => {
      handled.push(...batch.map((event) => event.position));
    });
    await expect(sub.done).rejects.toBeInstanceOf(SubscriptionFailedError);
    await expect(sub.done).rejects.toMatchObject({ position: bad });
    expect(handled).toEqual(result.positions);
    const binary = toPortPosition(fake.appendRaw('account-b', { id: randomUUID(), type: 'x', isJson: false, data: '{"n":1}' }));
    await expect(store.readAll({ after: bad })).rejects.toMatchObject({ position: binary });
  });

  it('hands over batches no larger than batchSize, one at a time, catch-up then live', async () => {
    await store.append(
      'account-a',
      NO_STREAM,
      Array.from({ length: 25 }, (_, index) => ev(index)),
    );
    const sizes: number[] = [];
    let inHandler = 0;
    const sub = store.subscribeToAll({ after: 0, batchSize: 4 }, async (batch) => {
      expect(++inHandler).toBe(1);
      sizes.push(batch.length);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inHandler--;
    });
    await waitFor(() => sizes.reduce((left, right) => left + right, 0) === 25);
    await store.append('account-a', 24, [ev(25), ev(26)]);
    await waitFor(() => sizes.reduce((left, right) => left + right, 0) === 27);
    await sub.stop();
    await sub.done;
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(fake.liveSubscriptions()).toBe(0);
  });
}

/** Stopping subscriptions, by hand and by closing the store. */
function describeStoppingOverFakeClient(): void {
  let fake: FakeEventStoreDbClient;
  let store: EventStoreDbEventStore;
  beforeEach(() => {
    fake = new FakeEventStoreDbClient();
    store = EventStoreDbEventStore.fromClient(asClient(fake), { streamPrefixes: ['account-'] });
  });
  afterEach(async () => {
    await store.close();
  });

  it('stops at once, even while the feed is still opening', async () => {
    const handled: number[] = [];
    const sub = store.subscribeToAll({ after: 0 }, (batch) => {
      handled.push(...ns(batch));
    });
    await sub.stop(); // nothing to hand over: only the stop itself can end it
    await expect(sub.done).resolves.toBeUndefined();
    await store.append('account-a', NO_STREAM, [ev(1)]);
    const resumed = store.subscribeToAll({ after: 0 }, (batch) => {
      handled.push(...ns(batch));
    });
    await waitFor(() => handled.length === 1);
    await resumed.stop();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fake.liveSubscriptions()).toBe(0);
  });

  it('stops running subscriptions when closed', async () => {
    const sub = store.subscribeToAll({ after: 0 }, () => undefined);
    await waitFor(() => fake.liveSubscriptions() === 1);
    await store.close();
    await expect(sub.done).resolves.toBeUndefined();
    expect(fake.liveSubscriptions()).toBe(0);
    await expect(store.readAll()).rejects.toThrow(/closed/);
  });
}

describe('eventstoredb $all feed', () => {
  const subscription = () => {
    const event = new PassThrough({ objectMode: true }) as unknown as AllStreamSubscription & PassThrough;
    event.unsubscribe = async () => undefined;
    return event;
  };
  const recorded = (position: number) => ({
    event: { streamId: 'account-a', id: randomUUID(), position: { commit: BigInt(position), prepare: BigInt(position) } } as AllStreamRecordedEvent,
  });

  it('collects what came before "caught up", skipping what is not after the start', async () => {
    const event = subscription();
    const feed = new AllFeed(event, 100);
    event.write(recorded(100)); // a server that starts inclusively
    event.write(recorded(150));
    event.write(recorded(210));
    event.emit('caughtUp');
    expect((await feed.collect(10, 1_000)).map((positioned) => positioned.position)).toEqual([150, 210]);
  });

  it('fails a read that never hears "caught up" (servers before 23.10) instead of hanging', async () => {
    const feed = new AllFeed(subscription(), 0);
    await expect(feed.collect(10, 30)).rejects.toThrow(/23\.10\+/);
  });

  it('refuses events that share a commit position (legacy explicit transactions) rather than drop one', async () => {
    const event = subscription();
    const feed = new AllFeed(event, 0);
    event.write(recorded(300));
    event.write(recorded(300));
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => feed.take(10)).toThrow(/not strictly increasing/);
  });
});

describe('eventstoredb adapter: the per-account hash chain in metadata (fake client)', () => {
  it('chains each stream in its events’ metadata, hands the links back as `chain`, and verifies per account', async () => {
    const fake = new FakeEventStoreDbClient();
    const store = EventStoreDbEventStore.fromClient(asClient(fake), { streamPrefixes: ['account-'] });
    await store.append('account-one', NO_STREAM, [ev(1), ev(2)]);
    await store.append('account-two', NO_STREAM, [ev(3)]);
    await store.append('account-one', 1, [ev(4)]);
    // A second adapter knows no cached hash: it reads the stream's last one.
    const other = EventStoreDbEventStore.fromClient(asClient(fake), { streamPrefixes: ['account-'] });
    await other.append('account-one', 2, [ev(5)]);
    const events = await store.readStream('account-one');
    expect(events.map((event) => event.metadata)).toEqual(events.map(() => TEST_EVENT_METADATA));
    expect(events[0].chain).toEqual({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), previousAccountHash: GENESIS_HASH });
    expect(events.slice(1).map((event) => event.chain?.previousAccountHash)).toEqual(events.slice(0, -1).map((event) => event.chain?.hash));
    expect(await verifyAccountChain(store, 'account-one')).toMatchObject({ eventsChecked: 4 });
    expect((await verifyAccountChain(store, 'account-one')).firstBreak).toBeUndefined();
    await store.close();
    await other.close();
  });

  it('an event written with other content under the same links breaks the chain at it', async () => {
    const fake = new FakeEventStoreDbClient();
    const store = EventStoreDbEventStore.fromClient(asClient(fake), { streamPrefixes: ['account-'] });
    await store.append('account-one', NO_STREAM, [ev(1)]);
    const [first] = await store.readStream('account-one');
    // Someone with server access appends a forged event carrying plausible links.
    fake.appendRaw('account-one', {
      id: randomUUID(),
      type: 'ThingHappened',
      isJson: true,
      data: JSON.stringify({ n: 999 }),
      metadata: JSON.stringify({ ...TEST_EVENT_METADATA, $chain: { hash: first.chain!.hash, previousAccountHash: first.chain!.hash } }),
    });
    expect((await verifyAccountChain(store, 'account-one')).firstBreak).toMatchObject({ revision: 1, problem: 'changed' });
    await store.close();
  });
});
