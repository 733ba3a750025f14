import {
  DeadlineExceededError,
  EventStoreDBClient,
  NotLeaderError,
  StreamNotFoundError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { NO_STREAM } from '../event-store.port';
import { canResubscribeAfter, isTransientEventStoreDbError } from './eventstoredb-errors';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
import { FakeEventStoreDbClient } from './testing/fake-eventstoredb-client';
import { anEvent } from '../testing/fixtures';

const event = anEvent;

const wrongExpectedVersion = () => new WrongExpectedVersionError(undefined, { streamName: 'account-a', expected: 0n, current: 1n });

describe('EventStoreDB error classification', () => {
  it('calls an unreachable server, a leader change and a missed deadline transient', () => {
    expect(isTransientEventStoreDbError(new UnavailableError())).toBe(true);
    expect(isTransientEventStoreDbError(Object.create(NotLeaderError.prototype) /* its constructor reads a gRPC status */)).toBe(true);
    expect(isTransientEventStoreDbError(new DeadlineExceededError())).toBe(true);
  });

  it('calls answers about the request, and errors of no store, not transient', () => {
    expect(isTransientEventStoreDbError(wrongExpectedVersion())).toBe(false);
    expect(isTransientEventStoreDbError(new StreamNotFoundError(undefined, 'account-a'))).toBe(false);
    expect(isTransientEventStoreDbError(new UnknownError())).toBe(false);
    expect(isTransientEventStoreDbError(new Error('boom'))).toBe(false);
    expect(isTransientEventStoreDbError(undefined)).toBe(false);
    expect(isTransientEventStoreDbError({ code: 'ECONNREFUSED' })).toBe(false);
  });

  it('resubscribes after what is transient and after a drop the client reports as unknown', () => {
    expect(canResubscribeAfter(new UnavailableError())).toBe(true);
    expect(canResubscribeAfter(new UnknownError())).toBe(true);
    expect(canResubscribeAfter(new Error('boom'))).toBe(false);
  });

  it('the adapter classifies the UnavailableError an unreachable server raises as transient', async () => {
    const fake = new FakeEventStoreDbClient();
    const store = EventStoreDbEventStore.fromClient(fake as unknown as EventStoreDBClient);
    try {
      await store.append('account-a', NO_STREAM, [event()]);
      fake.setUnavailable(true);
      const appendError = await store.append('account-a', 0, [event()]).catch((error: unknown) => error);
      const readError = await store.readAll().catch((error: unknown) => error);
      const headError = await store.headPosition().catch((error: unknown) => error);
      for (const error of [appendError, readError, headError]) {
        expect(error).toBeInstanceOf(UnavailableError);
        expect(store.isTransientError(error)).toBe(true);
      }
      await expect(store.ping()).rejects.toBeInstanceOf(UnavailableError);
      fake.setUnavailable(false);
      expect(await store.headPosition()).toBeGreaterThan(0);
      expect(store.isTransientError(wrongExpectedVersion())).toBe(false);
    } finally {
      await store.close();
    }
  });
});
