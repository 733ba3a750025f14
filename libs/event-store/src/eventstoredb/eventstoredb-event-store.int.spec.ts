import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, FORWARDS, NO_STREAM as ESDB_NO_STREAM, binaryEvent, jsonEvent } from '@eventstore/db-client';
import { describeEventStoreContract } from '../testing/event-store-contract';
import { CorruptEventError, NO_STREAM, RecordedEvent, SubscriptionFailedError } from '../event-store.port';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
import { toAllPosition, toPortPosition } from './eventstoredb-positions';
import { anEvent, waitFor } from '../testing/fixtures';

/**
 * Runs against a real EventStoreDB 23.10+ / KurrentDB named by EVENTSTORE_CONNECTION_STRING, e.g.
 * `esdb://localhost:2113?tls=false` for the `kurrentdb` service of deploy/docker-compose.yml.
 * Streams are unique per run, so a shared database is fine.
 */
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (!connectionString) {
  process.stdout.write(
    'eventstoredb: contract suite SKIPPED — EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server on this machine; see docs/testing.md, "EventStoreDB")\n',
  );
  // Reported by jest as skipped, never as a pass.
  describe('eventstoredb adapter against a real server', () => {
    it.skip('contract suite and adapter specifics: SKIPPED, EVENTSTORE_CONNECTION_STRING is not set (eventstoredb-event-store.spec.ts runs the adapter logic over a fake client only)', () =>
      undefined);
  });
} else {
  const url = connectionString;
  describeEventStoreContract('eventstoredb', () => EventStoreDbEventStore.connect(url, { streamPrefixes: ['contract_'] }));

  describe('eventstoredb adapter specifics', () => {
    describeIdsAndPrefixesAgainstServer(url);
    describePositionsAndDecodingAgainstServer(url);
  });
}

const ev = anEvent;
const ns = (events: readonly RecordedEvent[]) => events.map((event) => (event.data as { n: number }).n);

/** Our event ids as the server's, and the stream prefixes that make up the global log. */
function describeIdsAndPrefixesAgainstServer(url: string): void {
  // One prefix per run: the global log of this store holds only this run's streams.
  const run = randomUUID().replace(/-/g, '');
  const inside = `esdbtest_${run}_in-`;
  const outside = `esdbtest_${run}_out-`;
  let store: EventStoreDbEventStore;
  let raw: EventStoreDBClient;
  beforeAll(async () => {
    store = await EventStoreDbEventStore.connect(url, { streamPrefixes: [inside] });
    raw = EventStoreDBClient.connectionString(url);
  });
  afterAll(async () => {
    await store.close();
    await raw.dispose();
  });

  it('sends our event ids as the ESDB ids, so the server itself treats a resend as idempotent', async () => {
    const streamId = `${inside}idem`;
    const events = [ev(1), ev(2)];
    const first = await store.append(streamId, NO_STREAM, events);
    const resend = await raw.appendToStream(
      streamId,
      events.map((event) => jsonEvent({ id: event.eventId, type: event.type, data: event.data as { n: number }, metadata: event.metadata })),
      { expectedRevision: ESDB_NO_STREAM },
    );
    expect(resend.success).toBe(true);
    const stored: string[] = [];
    for await (const recorded of raw.readStream(streamId, { fromRevision: 0n, direction: FORWARDS })) stored.push(recorded.event!.id);
    expect(stored).toEqual(events.map((event) => event.eventId)); // written once, under our ids
    expect(await store.append(streamId, NO_STREAM, events)).toEqual(first);
  });

  it('sees only streams with its prefixes in readAll, headPosition and subscriptions', async () => {
    const result = await store.append(`${inside}a`, NO_STREAM, [ev(1)]);
    await raw.appendToStream(`${outside}x`, jsonEvent({ type: 'Other', data: { n: 99 } }), { expectedRevision: ESDB_NO_STREAM });
    expect(await store.headPosition()).toBe(result.positions[0]);
    const outcome = await store.append(`${inside}b`, NO_STREAM, [ev(2)]);
    expect(ns(await store.readAll())).toEqual([1, 2]);
    expect(ns(await store.readAll({ after: result.positions[0] - 1 }))).toEqual([1, 2]);
    const seen: RecordedEvent[] = [];
    const sub = store.subscribeToAll({ after: 0 }, (batch) => {
      seen.push(...batch);
    });
    await waitFor(() => seen.length === 2);
    await raw.appendToStream(`${outside}x`, jsonEvent({ type: 'Other', data: { n: 98 } }), { expectedRevision: 0n });
    await store.append(`${inside}b`, 0, [ev(3)]);
    await waitFor(() => seen.length === 3);
    await sub.stop();
    expect(ns(seen)).toEqual([1, 2, 3]);
    expect(seen[1].position).toBe(outcome.positions[0]);
    expect(seen.every((event) => event.streamId.startsWith(inside))).toBe(true);
  });
}

/** Positions round-trip through $all; an undecodable event is never skipped. */
function describePositionsAndDecodingAgainstServer(url: string): void {
  // One prefix per run: the global log of this store holds only this run's streams.
  const run = randomUUID().replace(/-/g, '');
  const inside = `esdbtest_${run}_in-`;
  let store: EventStoreDbEventStore;
  let raw: EventStoreDBClient;
  beforeAll(async () => {
    store = await EventStoreDbEventStore.connect(url, { streamPrefixes: [inside] });
    raw = EventStoreDBClient.connectionString(url);
  });
  afterAll(async () => {
    await store.close();
    await raw.dispose();
  });

  it('round-trips positions: an append position is where $all holds that event, and $all reads give it back', async () => {
    const streamId = `${inside}pos`;
    const result = await store.append(streamId, NO_STREAM, [ev(1), ev(2), ev(3)]);
    expect(new Set(result.positions).size).toBe(3); // one position per event, even within one append
    for (const [index, eventPosition] of result.positions.entries()) {
      const found: string[] = [];
      for await (const recorded of raw.readAll({ fromPosition: toAllPosition(eventPosition), maxCount: 1, direction: FORWARDS })) {
        expect(toPortPosition(recorded.event!.position)).toBe(eventPosition);
        found.push(recorded.event!.id);
      }
      expect(found).toEqual([(await store.readStream(streamId, { fromRevision: index, limit: 1 }))[0].eventId]);
    }
    const page = await store.readAll({ after: result.positions[0], limit: 2 });
    expect(page.map((event) => event.position)).toEqual(result.positions.slice(1));
  });

  it('never skips an event it cannot decode: readAll fails at it, a subscription stops there', async () => {
    const streamId = `${inside}corrupt`;
    const good = await store.append(streamId, NO_STREAM, [ev(1)]);
    await raw.appendToStream(streamId, binaryEvent({ type: 'ThingHappened', data: Buffer.from('not json {') }), { expectedRevision: 0n });
    const [stored] = await store.readStream(streamId, { limit: 1 });
    expect(stored.position).toBe(good.positions[0]);
    const failure = await store.readAll({ after: good.positions[0] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CorruptEventError);
    const badPosition = (failure as CorruptEventError).position;
    const handled: number[] = [];
    const sub = store.subscribeToAll({ after: good.positions[0] - 1 }, (batch) => {
      handled.push(...batch.map((event) => event.position));
    });
    await expect(sub.done).rejects.toBeInstanceOf(SubscriptionFailedError);
    await expect(sub.done).rejects.toMatchObject({ position: badPosition });
    expect(handled).toEqual(good.positions);
  });
}
