import { randomUUID } from 'node:crypto';
import {
  MaxAppendSizeExceededError,
  RecordedEvent as EsdbRecordedEvent,
  NO_STREAM as ESDB_NO_STREAM,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { CorruptEventError, EventToAppend, InvalidAppendError, NO_STREAM, WrongExpectedRevisionError } from '../event-store.port';
import { decodeEvents, matchesPrefixes, toEventData } from './eventstoredb-codec';
import { ESDB_NO_POSITION, mapAppendError, toActualRevision, toAllPosition, toExpectedRevision, toPortPosition, toRevision } from './eventstoredb-positions';

describe('eventstoredb positions', () => {
  it('maps an event $all position to its commit position, and back to where the record starts', () => {
    expect(toPortPosition({ commit: 4_242n, prepare: 4_242n })).toBe(4_242);
    // Servers before 22.6 sent the transaction's first position as prepare: commit is the per-event one.
    expect(toPortPosition({ commit: 5_000n, prepare: 4_242n })).toBe(5_000);
    expect(toAllPosition(4_242)).toEqual({ commit: 4_242n, prepare: 4_242n });
    for (const position of [1, 123_456_789, Number.MAX_SAFE_INTEGER]) expect(toPortPosition(toAllPosition(position))).toBe(position);
  });

  it('refuses positions a JS number cannot carry, and positions the server did not send', () => {
    const big = BigInt(Number.MAX_SAFE_INTEGER) + 1n;
    expect(() => toPortPosition({ commit: big, prepare: big })).toThrow(/exceeds Number.MAX_SAFE_INTEGER/);
    expect(() => toPortPosition({ commit: ESDB_NO_POSITION, prepare: ESDB_NO_POSITION })).toThrow(/no \$all position/);
    expect(() => toPortPosition(undefined)).toThrow(/no \$all position/);
    expect(() => toPortPosition({ commit: 0n, prepare: 0n })).toThrow(/position 0/);
    expect(() => toAllPosition(-1)).toThrow(RangeError);
    expect(() => toAllPosition(1.5)).toThrow(RangeError);
    expect(() => toAllPosition(Number.MAX_SAFE_INTEGER + 2)).toThrow(RangeError);
  });

  it('maps expected revisions to the client: NO_STREAM or an exact revision, never ANY', () => {
    expect(toExpectedRevision(NO_STREAM)).toBe(ESDB_NO_STREAM);
    expect(toExpectedRevision(0)).toBe(0n);
    expect(toExpectedRevision(41)).toBe(41n);
    expect(() => toExpectedRevision(-2)).toThrow(InvalidAppendError);
    expect(() => toExpectedRevision(0.5)).toThrow(InvalidAppendError);
  });

  it('maps revisions from the client, -1 for a stream that does not exist', () => {
    expect(toRevision(7n)).toBe(7);
    expect(() => toRevision(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toThrow(RangeError);
    expect(toActualRevision(ESDB_NO_STREAM)).toBe(-1);
    expect(toActualRevision(3n)).toBe(3);
  });

  it('maps the client conflict to WrongExpectedRevisionError with the actual revision', () => {
    const conflict = new WrongExpectedVersionError(undefined, { streamName: 'account-a', expected: 0n, current: 1n });
    const mapped = mapAppendError(conflict, 'account-a', 0);
    expect(mapped).toBeInstanceOf(WrongExpectedRevisionError);
    expect(mapped).toMatchObject({ name: 'WrongExpectedRevisionError', streamId: 'account-a', expectedRevision: 0, actualRevision: 1 });
    const missing = new WrongExpectedVersionError(undefined, { streamName: 'account-b', expected: 0n, current: ESDB_NO_STREAM });
    expect(mapAppendError(missing, 'account-b', 0)).toMatchObject({ streamId: 'account-b', expectedRevision: 0, actualRevision: -1 });
    const exists = new WrongExpectedVersionError(undefined, { streamName: 'account-c', expected: ESDB_NO_STREAM, current: 4n });
    expect(mapAppendError(exists, 'account-c', NO_STREAM)).toMatchObject({ expectedRevision: -1, actualRevision: 4 });
  });

  it('maps the server append size limit to InvalidAppendError and passes other errors through', () => {
    const tooBig = MaxAppendSizeExceededError.fromMaxAppendSize(1_048_576);
    const mapped = mapAppendError(tooBig, 'account-a', 0);
    expect(mapped).toBeInstanceOf(InvalidAppendError);
    expect((mapped as Error).message).toMatch(/1048576 bytes/);
    const down = new UnavailableError();
    expect(mapAppendError(down, 'account-a', 0)).toBe(down);
  });
});

describe('eventstoredb codec', () => {
  const ev = (extra: Partial<EventToAppend> = {}): EventToAppend => ({
    eventId: randomUUID(),
    type: 'ThingHappened',
    data: { n: 1 },
    metadata: { schemaVersion: 1, occurredAt: 'x', recordedAt: 'y', actor: 'a', correlationId: 'c', causationId: 'd' },
    ...extra,
  });
  const stored = (extra: Partial<EsdbRecordedEvent> = {}) =>
    ({
      streamId: 'account-a',
      id: randomUUID(),
      revision: 3n,
      type: 'ThingHappened',
      isJson: true,
      data: { n: 1 },
      metadata: { schemaVersion: 1 },
      created: new Date(),
      ...extra,
    }) as EsdbRecordedEvent;

  it('sends our event id, type, data and metadata as a JSON event', () => {
    const event = ev();
    expect(toEventData(event)).toEqual({ id: event.eventId, contentType: 'application/json', type: event.type, data: event.data, metadata: event.metadata });
  });

  it('refuses what the server could not take or give back as it was', () => {
    expect(() => toEventData(ev({ eventId: 'consumption-1' }))).toThrow(InvalidAppendError);
    expect(() => toEventData(ev({ data: 'a string' }))).toThrow(/JSON object or array/);
    expect(() => toEventData(ev({ data: null }))).toThrow(InvalidAppendError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toEventData(ev({ data: cyclic }))).toThrow(/cannot be serialized/);
    expect(() => toEventData(ev({ data: [1, 2] }))).not.toThrow();
  });

  it('decodes stored JSON events, and stops at one it cannot decode, naming its position', () => {
    const good = stored();
    expect(decodeEvents([good], [900])).toEqual([
      { streamId: 'account-a', revision: 3, position: 900, eventId: good.id, type: 'ThingHappened', data: { n: 1 }, metadata: { schemaVersion: 1 } },
    ]);
    for (const bad of [
      stored({ data: 'not json {' }), // the client hands back the raw text when JSON.parse fails
      stored({ isJson: false, data: new Uint8Array([1, 2]) } as Partial<EsdbRecordedEvent>),
      stored({ metadata: new Uint8Array([123]) }),
      stored({ metadata: undefined }),
    ]) {
      let caught: unknown;
      try {
        decodeEvents([good, bad], [900, 1_000]);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CorruptEventError);
      expect(caught).toMatchObject({ position: 1_000, streamId: 'account-a', revision: 3, decodedBefore: [{ position: 900 }] });
    }
  });

  it('matches stream names on their prefix, as the server filter does', () => {
    expect(matchesPrefixes('account-acme', ['account-'])).toBe(true);
    expect(matchesPrefixes('$stats-127.0.0.1:2113', ['account-'])).toBe(false);
    expect(matchesPrefixes('contract_x-1', ['account-', 'contract_'])).toBe(true);
  });
});
