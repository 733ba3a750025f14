import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { NO_STREAM } from '../event-store.port';
import { PostgresEventStore } from '../postgres/postgres-event-store';
import { fillPostgresHashChain } from '../postgres/postgres-hash-chain';
import { migratePostgres } from '../postgres/postgres-migrations';
import { PG_EVENT_STORE_MIGRATIONS, PG_MIGRATION_COMPONENT } from '../postgres/postgres-sql';
import { SQLITE_FILE_NAME, SqliteEventStore, migrate } from '../sqlite/sqlite-event-store';
import { createTestDatabase, dropTestDatabase } from '../testing/test-databases';
import { verifyGlobalChain } from './verify-chain';

const EVENTS_BEFORE = 2_500;
const STREAMS = 40;
/** Stored as the code before the chains wrote it: JSON.stringify, keys in insertion order (not canonical). */
const oldRow = (index: number) => ({
  streamId: `account-old${index % STREAMS}`,
  revision: Math.floor(index / STREAMS),
  eventId: `old-${index}`,
  data: JSON.stringify({ credits: index, creditType: 'api' }),
  metadata: JSON.stringify({ schemaVersion: 1, recordedAt: '2025-01-01T00:00:00Z', actor: 'a', correlationId: 'c', causationId: 'c' }),
});

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('hash-chain migration of a store written before the chains', () => {
  it('SQLite: fills every hash in order, resumably, then new appends chain on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-chain-migration-'));
    dirs.push(dir);
    const db = new Database(join(dir, SQLITE_FILE_NAME));
    migrate(db, 'event_store', [
      `CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, revision INTEGER NOT NULL, event_id TEXT NOT NULL,
         type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL);
       CREATE UNIQUE INDEX events_stream_revision ON events (stream_id, revision);`,
    ]);
    const insert = db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (let index = 0; index < EVENTS_BEFORE; index++) {
        const row = oldRow(index);
        insert.run(row.streamId, row.revision, row.eventId, 'CreditConsumed', row.data, row.metadata);
      }
    })();
    db.close();

    const store = SqliteEventStore.open(dir);
    expect(store.hashChainFill.filled).toBe(EVENTS_BEFORE);
    await store.append('account-old1', Math.floor((EVENTS_BEFORE - 1) / STREAMS), [
      { eventId: 'new-1', type: 'T', data: {}, metadata: { schemaVersion: 1 } as never },
    ]);
    await store.append('account-new', NO_STREAM, [{ eventId: 'new-2', type: 'T', data: {}, metadata: { schemaVersion: 1 } as never }]);
    const report = await verifyGlobalChain(store);
    expect(report).toMatchObject({ eventsChecked: EVENTS_BEFORE + 2 });
    expect(report.firstBreak).toBeUndefined();
    await store.close();
    const reopened = SqliteEventStore.open(dir);
    expect(reopened.hashChainFill.filled).toBe(0);
    await reopened.close();
  });
});

describe('hash-chain migration of a store written before the chains', () => {
  it('PostgreSQL: fills every hash in order, resumably (interrupted after one batch), then new appends chain on', async () => {
    const url = await createTestDatabase(undefined, 'chain_migration');
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await migratePostgres(client, PG_MIGRATION_COMPONENT, PG_EVENT_STORE_MIGRATIONS);
      const rows = Array.from({ length: EVENTS_BEFORE }, (_, index) => oldRow(index));
      await client.query(
        `INSERT INTO ledger_events (position, stream_id, revision, event_id, type, data, metadata)
         SELECT ord, u.stream_id, u.revision, u.event_id, 'CreditConsumed', u.data::json, u.metadata::json
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(stream_id, revision, event_id, data, metadata, ord)`,
        [
          rows.map((row) => row.streamId),
          rows.map((row) => row.revision),
          rows.map((row) => row.eventId),
          rows.map((row) => row.data),
          rows.map((row) => row.metadata),
        ],
      );
      await client.query('UPDATE ledger_event_log_head SET position = $1', [EVENTS_BEFORE]);
      // The chain component's schema, then an interrupted fill: one batch of 1,000, committed.
      const { PG_CHAIN_MIGRATIONS, PG_CHAIN_MIGRATION_COMPONENT } = await import('../postgres/postgres-hash-chain');
      await migratePostgres(client, PG_CHAIN_MIGRATION_COMPONENT, PG_CHAIN_MIGRATIONS);
      expect(await fillPostgresHashChain(client, { batchSize: 1_000, maxBatches: 1 })).toEqual({ filled: 1_000 });
      // Stored events stay immutable: only the hashes of unhashed events may be set.
      await expect(client.query("UPDATE ledger_events SET data = '{}' WHERE position = 2000")).rejects.toThrow(/append-only/);
      await expect(client.query("UPDATE ledger_events SET hash = '\\x00' WHERE position = 1")).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
    const store = await PostgresEventStore.connect(url);
    try {
      expect(store.hashChainMigration?.filled).toBe(EVENTS_BEFORE - 1_000);
      await store.append('account-new', NO_STREAM, [{ eventId: 'new-1', type: 'T', data: {}, metadata: { schemaVersion: 1 } as never }]);
      const report = await verifyGlobalChain(store);
      expect(report).toMatchObject({ eventsChecked: EVENTS_BEFORE + 1 });
      expect(report.firstBreak).toBeUndefined();
    } finally {
      await store.close();
      await dropTestDatabase(url);
    }
  });
});
