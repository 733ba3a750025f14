import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_STREAM, WrongExpectedRevisionError } from '../event-store.port';
import { SQLITE_BUSY_TIMEOUT_MS, SQLITE_FILE_NAME, SqliteEventStore, isTransientSqliteError } from './sqlite-event-store';
import { anEvent } from '../testing/fixtures';

const event = anEvent;

describe('SQLite error classification', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-sqlite-errors-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('calls a lock held by another connection (SQLITE_BUSY, as better-sqlite3 raises it) transient', () => {
    const file = join(dataDir, 'busy.sqlite');
    const holder = new Database(file);
    const waiter = new Database(file);
    try {
      holder.pragma('journal_mode = WAL');
      waiter.pragma('busy_timeout = 0');
      holder.exec('BEGIN IMMEDIATE');
      let busy: unknown;
      try {
        waiter.exec('BEGIN IMMEDIATE');
      } catch (error) {
        busy = error;
      }
      expect((busy as Error).name).toBe('SqliteError'); // by name: the native module's classes differ across jest realms
      expect((busy as { code: string }).code).toBe('SQLITE_BUSY');
      expect(isTransientSqliteError(busy)).toBe(true);
      holder.exec('ROLLBACK');
    } finally {
      holder.close();
      waiter.close();
    }
  });

  it('calls extended busy and locked codes transient, and everything else not', () => {
    for (const code of ['SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE']) expect(isTransientSqliteError({ code })).toBe(true);
    for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_FULL', 'SQLITE_CORRUPT', 'SQLITE_BUSYNESS', 'ECONNREFUSED'])
      expect(isTransientSqliteError({ code })).toBe(false);
    expect(isTransientSqliteError(new Error('boom'))).toBe(false);
    expect(isTransientSqliteError(null)).toBe(false);
  });

  it(
    'an append blocked past the busy timeout by another process fails as transient, and passes once the lock is gone',
    async () => {
      const store = SqliteEventStore.open(dataDir);
      const other = new Database(join(dataDir, SQLITE_FILE_NAME));
      try {
        expect(store.isTransientError(new WrongExpectedRevisionError('s', 0, 1))).toBe(false);
        other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
        const blocked = await store.append('account-a', NO_STREAM, [event()]).catch((error: unknown) => error);
        other.exec('ROLLBACK');
        expect(store.isTransientError(blocked)).toBe(true);
        expect((await store.append('account-a', NO_STREAM, [event()])).positions).toHaveLength(1);
      } finally {
        other.close();
        await store.close();
      }
    },
    SQLITE_BUSY_TIMEOUT_MS * 4,
  );
});
