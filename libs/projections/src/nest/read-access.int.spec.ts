import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '@credit-ledger/domain';
import { EventStore, NO_STREAM, SqliteEventStore } from '@credit-ledger/event-store';
import { anEvent } from '@credit-ledger/event-store/testing';
import { accountStream } from '@credit-ledger/ledger';
import { requireOpenAccount } from './read-access';

describe('requireOpenAccount on the SQLite file store', () => {
  let dir: string;
  let store: SqliteEventStore;
  let reads: number;
  let counted: EventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-read-access-'));
    store = SqliteEventStore.open(dir);
    reads = 0;
    counted = new Proxy(store, {
      get: (target, name, receiver) => {
        const value: unknown = Reflect.get(target, name, receiver);
        if (name !== 'readStream' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]) => {
          reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an account never opened is refused every time (nothing is remembered for it), and opening it later is seen', async () => {
    for (let i = 0; i < 2; i++) await expect(requireOpenAccount(counted, 'acme')).rejects.toBeInstanceOf(DomainError);
    expect(reads).toBe(2);
    await store.append(accountStream('acme'), NO_STREAM, [anEvent(1)]);
    await expect(requireOpenAccount(counted, 'acme')).resolves.toBeUndefined();
    expect(reads).toBe(3);
  });

  it('an account found open is remembered per store: later reads of it read no event', async () => {
    await store.append(accountStream('acme'), NO_STREAM, [anEvent(1)]);
    for (let i = 0; i < 5; i++) await requireOpenAccount(counted, 'acme');
    expect(reads).toBe(1);
    await expect(requireOpenAccount(counted, 'other')).rejects.toBeInstanceOf(DomainError);
    expect(reads).toBe(2);
  });
});
