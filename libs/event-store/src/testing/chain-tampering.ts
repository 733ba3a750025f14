import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Client } from 'pg';
import { GENESIS_HASH, eventHash } from '../chain/event-hash';
import { EventStore, RecordedEvent } from '../event-store.port';
import { SQLITE_FILE_NAME } from '../sqlite/sqlite-event-store';
import { TEST_EVENT_METADATA } from './fixtures';

/**
 * Tampering through the database itself, for the hash-chain tests: what someone with database
 * access could do to the log, bypassing the store (and, on PostgreSQL, its append-only trigger).
 */
export interface ChainTamperer {
  /** Changes the `credits` of the event's data. */
  setCredits(position: number, credits: number): Promise<void>;
  deleteAt(position: number): Promise<void>;
  /** The two events exchange their positions in the global log. */
  swapPositions(first: number, second: number): Promise<void>;
  /**
   * Slips a forged event in at `position` (revision `forged.revision` of its stream), moving every
   * later event one position (and later events of its stream one revision) up. The forged event's
   * own hash is computed correctly, from the links that precede it.
   */
  insertForged(forged: RecordedEvent): Promise<void>;
  /** Deletes every event from `position` on. */
  truncateFrom(position: number): Promise<void>;
  close(): Promise<void>;
}

/** Streams and layout of the seeded log: position → stream (revisions follow per stream). */
export const TAMPER_SEED_STREAMS = [
  'account-a',
  'account-b',
  'account-a',
  'account-c',
  'account-b',
  'account-a',
  'account-c',
  'account-b',
  'account-a',
  'account-c',
];

/** Appends the seeded log, one event per append, in order: positions 1..10. */
export async function seedTamperLog(store: EventStore): Promise<RecordedEvent[]> {
  const revisions = new Map<string, number>();
  for (const [index, streamId] of TAMPER_SEED_STREAMS.entries()) {
    const revision = revisions.get(streamId) ?? -1;
    await store.append(streamId, revision, [
      {
        eventId: `event-${index + 1}`,
        type: 'CreditConsumed',
        data: { credits: 10 + index, creditType: 'api', consumptionId: `c-${index + 1}` },
        metadata: TEST_EVENT_METADATA,
      },
    ]);
    revisions.set(streamId, revision + 1);
  }
  return store.readAll({ after: 0, limit: 100 });
}

/** A forged event for `streamId` at `position`/`revision`, hashed correctly behind the given links. */
export function forgeEvent(log: readonly RecordedEvent[], streamId: string, position: number, revision: number): RecordedEvent {
  const previousGlobalHash = log.find((event) => event.position === position - 1)?.chain?.hash ?? GENESIS_HASH;
  const previousAccountHash = log.find((event) => event.streamId === streamId && event.revision === revision - 1)?.chain?.hash ?? GENESIS_HASH;
  const fields = {
    streamId,
    revision,
    position,
    eventId: 'forged-1',
    type: 'CreditRefunded',
    data: { credits: 1_000_000, creditType: 'api', consumptionId: 'c-1' },
    metadata: TEST_EVENT_METADATA,
    previousAccountHash,
    previousGlobalHash,
  };
  return { ...fields, chain: { hash: eventHash(fields), previousAccountHash, previousGlobalHash } };
}

/** Tampers with an SQLite event store's file through a connection of its own. */
export function sqliteTamperer(dataDir: string): ChainTamperer {
  const db = new Database(join(dataDir, SQLITE_FILE_NAME));
  db.pragma('busy_timeout = 5000');
  return {
    async setCredits(position, credits) {
      db.prepare("UPDATE events SET data = json_set(data, '$.credits', ?) WHERE position = ?").run(credits, position);
    },
    async deleteAt(position) {
      db.prepare('DELETE FROM events WHERE position = ?').run(position);
    },
    async swapPositions(first, second) {
      db.transaction(() => {
        db.prepare('UPDATE events SET position = -1 WHERE position = ?').run(first);
        db.prepare('UPDATE events SET position = ? WHERE position = ?').run(first, second);
        db.prepare('UPDATE events SET position = ? WHERE position = -1').run(second);
      })();
    },
    async insertForged(forged) {
      db.transaction(() => {
        db.prepare('UPDATE events SET position = -position WHERE position >= ?').run(forged.position);
        db.prepare('UPDATE events SET position = 1 - position WHERE position < 0').run();
        db.prepare('UPDATE events SET revision = -revision WHERE stream_id = ? AND revision >= ?').run(forged.streamId, forged.revision);
        db.prepare('UPDATE events SET revision = 1 - revision WHERE stream_id = ? AND revision < 0').run(forged.streamId);
        db.prepare(
          'INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata, hash, previous_account_hash, previous_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(
          forged.position,
          forged.streamId,
          forged.revision,
          forged.eventId,
          forged.type,
          JSON.stringify(forged.data),
          JSON.stringify(forged.metadata),
          Buffer.from(forged.chain!.hash, 'hex'),
          Buffer.from(forged.chain!.previousAccountHash, 'hex'),
          Buffer.from(forged.chain!.previousGlobalHash!, 'hex'),
        );
      })();
    },
    async truncateFrom(position) {
      db.prepare('DELETE FROM events WHERE position >= ?').run(position);
    },
    async close() {
      db.close();
    },
  };
}

/** Tampers with a PostgreSQL event store with its triggers off (session_replication_role = replica). */
export async function postgresTamperer(url: string): Promise<ChainTamperer> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query('SET session_replication_role = replica');
  const run = async (sql: string, values: unknown[] = []) => void (await client.query(sql, values));
  return {
    setCredits: (position, credits) =>
      run("UPDATE ledger_events SET data = jsonb_set(data::jsonb, '{credits}', to_jsonb($1::int))::json WHERE position = $2", [credits, position]),
    deleteAt: (position) => run('DELETE FROM ledger_events WHERE position = $1', [position]),
    swapPositions: (first, second) =>
      run(
        `UPDATE ledger_events SET position = CASE WHEN position = $1 THEN -1 ELSE $1 END WHERE position IN ($1, $2);
         UPDATE ledger_events SET position = $2 WHERE position = -1`
          .replace(/\$1/g, String(first))
          .replace(/\$2/g, String(second)),
      ),
    async insertForged(forged) {
      await run('UPDATE ledger_events SET position = -position WHERE position >= $1', [forged.position]);
      await run('UPDATE ledger_events SET position = 1 - position WHERE position < 0');
      await run('UPDATE ledger_events SET revision = -revision WHERE stream_id = $1 AND revision >= $2', [forged.streamId, forged.revision]);
      await run('UPDATE ledger_events SET revision = 1 - revision WHERE stream_id = $1 AND revision < 0', [forged.streamId]);
      await run(
        `INSERT INTO ledger_events (position, stream_id, revision, event_id, type, data, metadata, hash, previous_account_hash, previous_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, decode($8, 'hex'), decode($9, 'hex'), decode($10, 'hex'))`,
        [
          forged.position,
          forged.streamId,
          forged.revision,
          forged.eventId,
          forged.type,
          JSON.stringify(forged.data),
          JSON.stringify(forged.metadata),
          forged.chain!.hash,
          forged.chain!.previousAccountHash,
          forged.chain!.previousGlobalHash,
        ],
      );
    },
    truncateFrom: (position) => run('DELETE FROM ledger_events WHERE position >= $1', [position]),
    close: () => client.end(),
  };
}
