import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { describeEventStoreContract } from '../testing/event-store-contract';
import { CorruptEventError, EventToAppend, NO_STREAM, RecordedEvent, SubscriptionFailedError, WrongExpectedRevisionError } from '../event-store.port';
import { PostgresEventStore } from './postgres-event-store';
import { isTransientPostgresError } from './postgres-errors';
import { PG_EVENT_STORE_MIGRATIONS, PG_MIGRATION_COMPONENT } from './postgres-sql';
import { migratePostgres } from './postgres-migrations';
import { ThrowawayPostgresCluster, createTestDatabase, dropTestDatabase } from '../testing';
import { anEvent, waitFor } from '../testing/fixtures';

let url: string;
beforeAll(async () => {
  url = await createTestDatabase(undefined, 'pg_store');
});
afterAll(async () => {
  await dropTestDatabase(url);
});

describeEventStoreContract('postgres', () => PostgresEventStore.connect(url));

const ev = anEvent;

async function sql<T extends object = Record<string, unknown>>(text: string, values: unknown[] = [], database = url): Promise<T[]> {
  const client = new Client({ connectionString: database });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Appends, retrying with the SAME events while the server is away: idempotent, so never twice. */
async function appendRetrying(store: PostgresEventStore, stream: string, expected: number, events: EventToAppend[]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.append(stream, expected, events);
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('postgres adapter specifics', () => {
  describeMigrations();
  describeDurabilityAndImmutability();
  describeSubscribersUnderConcurrentWriters();
  describeLiveNotificationsAndCorruptRows();
  describeGroupCommitOrdering();
  describeRacesBetweenProcesses();
});

/** Migrations: applied once, refused when asked not to migrate, pre-release databases repaired. */
function describeMigrations(): void {
  it('runs its migrations once, and a second connect finds the schema current', async () => {
    const store = await PostgresEventStore.connect(url);
    expect(store.migration?.applied).toEqual([]); // the contract suite's connect applied them already
    const client = new Client({ connectionString: url });
    await client.connect();
    const again = await migratePostgres(client, PG_MIGRATION_COMPONENT, PG_EVENT_STORE_MIGRATIONS);
    expect(again).toEqual({ component: PG_MIGRATION_COMPONENT, applied: [], currentVersion: PG_EVENT_STORE_MIGRATIONS.length });
    await expect(migratePostgres(client, PG_MIGRATION_COMPONENT, [])).rejects.toThrow(/newer than this program knows/);
    await client.end();
    await store.close();
  });

  it('refuses to start on an unmigrated database when asked not to migrate', async () => {
    const empty = await createTestDatabase(undefined, 'pg_empty');
    await expect(PostgresEventStore.connect(empty, { migrate: false })).rejects.toThrow(/credit-ledger migrate/);
    const migrated = await PostgresEventStore.connect(empty);
    expect(migrated.migration?.applied).toEqual([1, 2, 3]);
    await migrated.close();
    await (await PostgresEventStore.connect(empty, { migrate: false })).close();
    await dropTestDatabase(empty);
  });

  it('brings a database migrated by a pre-release v2 (older function signature) to the released function', async () => {
    const db = await createTestDatabase(undefined, 'pg_prerelease');
    const client = new Client({ connectionString: db });
    await client.connect();
    // What an early build left: v1 plus an 8-argument ledger_append_group recorded as version 2.
    const preRelease = `CREATE FUNCTION ledger_append_group(p_streams text[], p_expected bigint[], p_counts int[], p_ids text[], p_types text[], p_data json, p_metadata json, p_atomic boolean)
      RETURNS SETOF record LANGUAGE sql AS 'SELECT NULL::record WHERE false'`;
    await migratePostgres(client, PG_MIGRATION_COMPONENT, [PG_EVENT_STORE_MIGRATIONS[0], preRelease]);
    const store = await PostgresEventStore.connect(db);
    expect(store.migration?.applied).toEqual([3]);
    const result = await store.append('prerelease_a', NO_STREAM, [ev(1), ev(2)]);
    expect(result).toEqual({ nextExpectedRevision: 1, positions: [1, 2] });
    const { rows } = await client.query<{ args: string }>(
      `SELECT pg_get_function_identity_arguments(oid) AS args FROM pg_proc WHERE proname = 'ledger_append_group'`,
    );
    expect(rows).toHaveLength(1);
    // The hash-chain component then replaces it with the function that also hashes (p_hash).
    expect(rows[0].args).toMatch(/p_atomic boolean, p_general boolean, p_hash boolean, OUT/);
    await client.end();
    await store.close();
    await dropTestDatabase(db);
  });
}

/** Durability settings, group commit at work, immutable stored events. */
function describeDurabilityAndImmutability(): void {
  it('acknowledges only with fsync=on and synchronous_commit=on', async () => {
    const store = await PostgresEventStore.connect(url);
    expect(await store.durability()).toEqual({ fsync: 'on', synchronousCommit: 'on' });
    await store.close();
  });

  it('group-commits concurrent appends: many appends, few transactions', async () => {
    const store = await PostgresEventStore.connect(url);
    await Promise.all(Array.from({ length: 500 }, (_, index) => store.append(`group_${randomUUID().replace(/-/g, '')}_${index}`, NO_STREAM, [ev(index)])));
    expect(store.stats().appends).toBe(500);
    expect(store.stats().commits).toBeLessThan(50);
    await store.close();
  });

  it('refuses UPDATE, DELETE and TRUNCATE of stored events', async () => {
    const store = await PostgresEventStore.connect(url);
    const streamId = `immutable_${randomUUID().replace(/-/g, '')}`;
    await store.append(streamId, NO_STREAM, [ev(1)]);
    await expect(sql(`UPDATE ledger_events SET type = 'X' WHERE stream_id = $1`, [streamId])).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(sql(`DELETE FROM ledger_events WHERE stream_id = $1`, [streamId])).rejects.toThrow(/append-only: DELETE refused/);
    await expect(sql('TRUNCATE ledger_events')).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect((await store.readStream(streamId)).map((event) => event.type)).toEqual(['ThingHappened']);
    await store.close();
  });
}

/** Subscribers under many concurrent writers on separate connections. */
function describeSubscribersUnderConcurrentWriters(): void {
  it('gives subscribers every committed event exactly once, in order, under many concurrent writers on separate connections', async () => {
    const db = await createTestDatabase(undefined, 'pg_visibility');
    const WRITERS = 6; // separate stores = separate connections, as separate processes would have
    const APPENDERS_PER_WRITER = 16;
    const APPENDS_PER_APPENDER = 25;
    const writers = await Promise.all(Array.from({ length: WRITERS }, () => PostgresEventStore.connect(db)));
    const reader = await PostgresEventStore.connect(db);
    const seen: RecordedEvent[] = [];
    // Small batches and an eager reader maximise the chance of reading while commits are in flight.
    const sub = reader.subscribeToAll({ after: 0, batchSize: 7 }, (batch) => {
      seen.push(...batch);
    });
    const acknowledged: { eventId: string; position: number }[] = [];
    await Promise.all(
      writers.flatMap((writer, wi) =>
        Array.from({ length: APPENDERS_PER_WRITER }, async (_, ai) => {
          const stream = `vis_${wi}_${ai}`;
          let rev = NO_STREAM;
          for (let index = 0; index < APPENDS_PER_APPENDER; index++) {
            const events = index % 5 === 0 ? [ev(index), ev(index), ev(index)] : [ev(index)];
            const result = await writer.append(stream, rev, events);
            rev = result.nextExpectedRevision;
            events.forEach((event, index) => acknowledged.push({ eventId: event.eventId, position: result.positions[index] }));
          }
        }),
      ),
    );
    await waitFor(() => seen.length >= acknowledged.length);
    await new Promise((resolve) => setTimeout(resolve, 200)); // anything extra would show up now
    await sub.stop();
    expect(seen).toHaveLength(acknowledged.length);
    expect(new Set(seen.map((event) => event.eventId)).size).toBe(seen.length);
    const seenIds = new Set(seen.map((event) => event.eventId));
    expect(acknowledged.every((appended) => seenIds.has(appended.eventId))).toBe(true);
    // Gapless and strictly increasing: 1..N with nothing skipped.
    expect(seen.map((event) => event.position)).toEqual(Array.from({ length: seen.length }, (_, index) => index + 1));
    for (const writer of writers) await writer.close();
    await reader.close();
    await dropTestDatabase(db);
  });
}

/** LISTEN/NOTIFY with the polling fallback, and corrupted rows in subscriptions. */
function describeLiveNotificationsAndCorruptRows(): void {
  it('pushes live events through LISTEN/NOTIFY, and falls back to polling when the LISTEN connection is cut', async () => {
    // The safety poll is set far beyond the test's waits: while LISTEN is up, only a NOTIFY can
    // deliver in time (no clock threshold is asserted).
    const store = await PostgresEventStore.connect(url, { notifySafetyPollMs: 600_000 });
    const writer = await PostgresEventStore.connect(url); // another "process": only NOTIFY or polling can tell us
    const streamName = `live_${randomUUID().replace(/-/g, '')}`;
    const seen: number[] = [];
    const head = await store.headPosition();
    const sub = store.subscribeToAll({ after: head }, (batch) => {
      seen.push(...batch.filter((event) => event.streamId === streamName).map((event) => (event.data as { n: number }).n));
    });
    await waitFor(() => store.liveMode() === 'notify');
    await writer.append(streamName, NO_STREAM, [ev(1)]);
    await waitFor(() => seen.length === 1); // pushed: the next poll is 10 minutes away

    // Cut the LISTEN connection for real; the subscription keeps going by polling, then reconnects.
    await sql('SELECT pg_terminate_backend($1)', [store.listenerProcessId()]);
    await waitFor(() => store.liveMode() === 'polling');
    await writer.append(streamName, 0, [ev(2)]);
    await waitFor(() => seen.length === 2);
    await waitFor(() => store.liveMode() === 'notify');
    await writer.append(streamName, 1, [ev(3)]);
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual([1, 2, 3]);
    await sub.stop();
    await writer.close();
    await store.close();
  });

  it('stops a subscription at a corrupted row, naming its position, after handing over the events before it', async () => {
    const db = await createTestDatabase(undefined, 'pg_poison');
    const store = await PostgresEventStore.connect(db);
    await store.append('poison_a', NO_STREAM, [ev(1), ev(2)]);
    // A row written around the adapter with a payload that is valid JSON for the server but not for
    // us cannot be made (the column is json), so corrupt the stored text the only way a disk or a
    // manual edit could: bypass the immutability trigger as the superuser.
    await store.append('poison_a', 1, [ev(3)]);
    await store.append('poison_a', 2, [ev(4)]);
    await sql(`ALTER TABLE ledger_events DISABLE TRIGGER ledger_events_no_update_delete`, [], db);
    await sql(`ALTER TABLE ledger_events ALTER COLUMN data TYPE text`, [], db);
    await sql(`UPDATE ledger_events SET data = '{"n": 3' WHERE position = 3`, [], db);
    const handled: number[] = [];
    const sub = store.subscribeToAll({ after: 0 }, (batch) => {
      handled.push(...batch.map((event) => event.position));
    });
    const failure = await sub.done.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SubscriptionFailedError);
    expect(failure).toMatchObject({ position: 3 });
    expect((failure as SubscriptionFailedError).cause).toBeInstanceOf(CorruptEventError);
    expect((failure as Error).message).toMatch(/position 3 \(stream poison_a, revision 2\) cannot be decoded/);
    expect(handled).toEqual([1, 2]);
    await expect(store.readAll()).rejects.toBeInstanceOf(CorruptEventError);
    await store.close();
    await dropTestDatabase(db);
  });
}

/** Group commit: a retry in its original group, per-stream order, atomic batches. */
function describeGroupCommitOrdering(): void {
  it('recognises a retry queued in the same group commit as its original', async () => {
    const store = await PostgresEventStore.connect(url);
    const streamId = `samegroup_${randomUUID().replace(/-/g, '')}`;
    const events = [ev(1), ev(2)];
    const [first, again] = await Promise.all([store.append(streamId, NO_STREAM, events), store.append(streamId, NO_STREAM, events)]);
    expect(again).toEqual(first);
    expect((await store.readStream(streamId)).map((event) => event.eventId)).toEqual(events.map((event) => event.eventId));
    await store.close();
  });

  it('commits appends to one stream sent without waiting for each other in the order they were made', async () => {
    const store = await PostgresEventStore.connect(url);
    const streamId = `pipelined_${randomUUID().replace(/-/g, '')}`;
    const others = Array.from({ length: 40 }, (_, index) => `pipelined_other_${randomUUID().replace(/-/g, '')}_${index}`);
    // Two writer connections take turns; without care the second append could commit first.
    const results = await Promise.all([
      ...Array.from({ length: 200 }, (_, index) => store.append(streamId, index - 1, [ev(index)])),
      ...others.map((otherStream) => store.append(otherStream, NO_STREAM, [ev(0)])),
    ]);
    expect(results.slice(0, 200).map((result) => result.nextExpectedRevision)).toEqual(Array.from({ length: 200 }, (_, index) => index));
    const stored = await store.readStream(streamId, { limit: 1000 });
    expect(stored.map((event) => (event.data as { n: number }).n)).toEqual(Array.from({ length: 200 }, (_, index) => index));
    expect(store.stats().commits).toBeGreaterThan(1);
    await store.close();
  });

  it('commits an atomic batch all or nothing', async () => {
    const store = await PostgresEventStore.connect(url);
    const [left, right] = [`atomic_a_${randomUUID().replace(/-/g, '')}`, `atomic_b_${randomUUID().replace(/-/g, '')}`];
    await store.append(right, NO_STREAM, [ev(0)]);
    await expect(
      store.appendAtomically([
        { streamId: left, expectedRevision: NO_STREAM, events: [ev(1)] },
        { streamId: right, expectedRevision: NO_STREAM, events: [ev(2)] }, // b exists: refused
      ]),
    ).rejects.toMatchObject({ name: 'WrongExpectedRevisionError', streamId: right, actualRevision: 0 });
    expect(await store.readStream(left)).toEqual([]);
    const results = await store.appendAtomically([
      { streamId: left, expectedRevision: NO_STREAM, events: [ev(1), ev(2)] },
      { streamId: right, expectedRevision: 0, events: [ev(3)] },
    ]);
    expect(results.map((result) => result.nextExpectedRevision)).toEqual([1, 1]);
    expect(results[1].positions[0]).toBe(results[0].positions[1] + 1); // one transaction, in order
    await store.close();
  });
}

/** Races between processes on one stream. */
function describeRacesBetweenProcesses(): void {
  it('settles races between processes on one stream: one append wins, the others are typed conflicts, revisions contiguous', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresEventStore.connect(url)));
    const streamId = `race_${randomUUID().replace(/-/g, '')}`;
    await stores[0].append(streamId, NO_STREAM, [ev(0)]);
    for (let round = 0; round < 10; round++) {
      const outcomes = await Promise.allSettled(stores.flatMap((st) => Array.from({ length: 8 }, (_, index) => st.append(streamId, round, [ev(index)]))));
      expect(outcomes.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of outcomes) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(WrongExpectedRevisionError);
    }
    expect((await stores[1].readStream(streamId)).map((event) => event.revision)).toEqual(Array.from({ length: 11 }, (_, index) => index));
    for (const st of stores) await st.close();
  });

  it('answers a conflict with the actual revision when the stream moved on in another process', async () => {
    const firstProcess = await PostgresEventStore.connect(url);
    const secondProcess = await PostgresEventStore.connect(url);
    const streamId = `xproc_${randomUUID().replace(/-/g, '')}`;
    await firstProcess.append(streamId, NO_STREAM, [ev(1)]);
    await secondProcess.append(streamId, 0, [ev(2)]);
    await expect(firstProcess.append(streamId, 0, [ev(3)])).rejects.toMatchObject({ name: 'WrongExpectedRevisionError', actualRevision: 1 });
    await expect(firstProcess.append(streamId, 0, [ev(3)])).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await firstProcess.close();
    await secondProcess.close();
  });
}

describe('postgres adapter across a server crash and restart (its own throwaway cluster)', () => {
  describeCrashRecovery();
  describeReadThatCannotPass();
});

/** A server crash under a live subscription: reads retried, nothing lost or repeated. */
function describeCrashRecovery(): void {
  it('keeps a live subscription going through a server crash: reads are retried, every committed event is handed over once, in order', async () => {
    const cluster = await ThrowawayPostgresCluster.start();
    try {
      const db = await createTestDatabase(cluster.url, 'pg_restart');
      const writer = await PostgresEventStore.connect(db);
      const reader = await PostgresEventStore.connect(db);
      const seen: RecordedEvent[] = [];
      const retried: unknown[] = [];
      const sub = reader.subscribeToAll({ after: 0, batchSize: 5, onReadRetry: (error) => retried.push(error) }, (batch) => {
        seen.push(...batch);
      });
      let settled = false;
      void sub.done.finally(() => (settled = true));
      const stream = 'restart_a';
      let rev = NO_STREAM;
      const acknowledged: string[] = [];
      for (let index = 0; index < 20; index++) {
        const events = [ev(index)];
        rev = (await writer.append(stream, rev, events)).nextExpectedRevision;
        acknowledged.push(events[0].eventId);
      }
      await waitFor(() => seen.length === 20);

      cluster.stop('immediate'); // a crash: no shutdown checkpoint, WAL replay on start
      await waitFor(() => retried.length >= 2); // the subscription's reads fail and are retried
      expect(retried.every(isTransientPostgresError)).toBe(true);
      cluster.restart();

      for (let index = 20; index < 40; index++) {
        const events = [ev(index)];
        rev = (await appendRetrying(writer, stream, rev, events)).nextExpectedRevision;
        acknowledged.push(events[0].eventId);
      }
      await waitFor(() => seen.length >= 40);
      await new Promise((resolve) => setTimeout(resolve, 200)); // anything extra would show up now
      expect(settled).toBe(false); // still subscribed
      expect(seen.map((event) => event.eventId)).toEqual(acknowledged);
      expect(seen.map((event) => event.position)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
      expect((await reader.readStream(stream, { limit: 100 })).map((event) => event.revision)).toEqual(Array.from({ length: 40 }, (_, index) => index));
      await sub.stop();
      await writer.close();
      await reader.close();
    } finally {
      cluster.destroy();
    }
  });
}

/** A read error that cannot pass ends the subscription at once. */
function describeReadThatCannotPass(): void {
  it('stops a subscription at once on a read error that cannot pass (the table is gone), naming the position', async () => {
    const db = await createTestDatabase(undefined, 'pg_gone');
    const store = await PostgresEventStore.connect(db);
    await store.append('gone_a', NO_STREAM, [ev(1)]);
    const retried: unknown[] = [];
    const seen: number[] = [];
    const sub = store.subscribeToAll({ after: 0, onReadRetry: (error) => retried.push(error) }, (batch) => {
      seen.push(...batch.map((event) => event.position));
    });
    await waitFor(() => seen.length === 1);
    await sql('ALTER TABLE ledger_events RENAME TO ledger_events_moved', [], db);
    await store.append('gone_b', NO_STREAM, [ev(2)]).catch(() => undefined); // fails too: the table is gone
    await sql(`NOTIFY ledger_events, '2'`, [], db); // wake the subscriber to read
    const failure = await sub.done.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SubscriptionFailedError);
    expect(failure).toMatchObject({ position: 2 });
    expect(retried).toEqual([]);
    await store.close();
    await dropTestDatabase(db);
  });
}
