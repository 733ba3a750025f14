import type Database from 'better-sqlite3';
import { GENESIS_HASH, eventHash } from '../chain/event-hash';

/** Its own migration component: what it does is add the hash chains. */
export const SQLITE_CHAIN_MIGRATION_COMPONENT = 'event_hash_chain';
/** Events hashed per transaction when a store written before the chains is filled in. */
export const HASH_CHAIN_FILL_BATCH = 2_000;

/**
 * The hash columns (32-byte BLOBs) and the head record: the last position and its hash, moved by
 * every group commit, so that a log cut short at its end is told from a shorter log.
 */
export const SQLITE_CHAIN_MIGRATIONS: readonly string[] = [
  `ALTER TABLE events ADD COLUMN hash BLOB;
   ALTER TABLE events ADD COLUMN previous_account_hash BLOB;
   ALTER TABLE events ADD COLUMN previous_hash BLOB;
   CREATE TABLE event_chain_head (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL, hash BLOB);
   INSERT INTO event_chain_head (id, position, hash) VALUES (1, 0, NULL);`,
];

interface UnhashedRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

/**
 * Fills the hashes of events stored before the chains, in position order, a batch per
 * transaction: interrupted, the next open goes on from the first event without a hash. Stored
 * events are otherwise untouched (only the NULL hash columns are set).
 */
export function fillSqliteHashChain(db: Database.Database, limits: { batchSize?: number; maxBatches?: number } = {}): { filled: number } {
  const batchSize = limits.batchSize ?? HASH_CHAIN_FILL_BATCH;
  const firstUnhashed = db.prepare('SELECT min(position) FROM events WHERE hash IS NULL').pluck().get() as number | null;
  if (firstUnhashed === null) return { filled: 0 };
  const previousGlobal = db.prepare('SELECT hash FROM events WHERE position < ? ORDER BY position DESC LIMIT 1').pluck();
  const previousInStream = db.prepare('SELECT hash FROM events WHERE stream_id = ? AND revision < ? ORDER BY revision DESC LIMIT 1').pluck();
  const page = db.prepare('SELECT position, stream_id, revision, event_id, type, data, metadata FROM events WHERE position >= ? ORDER BY position LIMIT ?');
  const setHash = db.prepare('UPDATE events SET hash = ?, previous_account_hash = ?, previous_hash = ? WHERE position = ? AND hash IS NULL');
  const moveHead = db.prepare('UPDATE event_chain_head SET position = ?, hash = ? WHERE id = 1');
  let filled = 0;
  let from = firstUnhashed;
  for (let batch = 1; ; batch++) {
    const done = db
      .transaction(() => {
        const rows = page.all(from, batchSize) as UnhashedRow[];
        let globalHash = hexOf(previousGlobal.get(from) as Buffer | undefined);
        for (const row of rows) {
          const accountHash = hexOf(previousInStream.get(row.stream_id, row.revision) as Buffer | undefined);
          const hash = eventHash({
            streamId: row.stream_id,
            revision: row.revision,
            position: row.position,
            eventId: row.event_id,
            type: row.type,
            data: JSON.parse(row.data),
            metadata: JSON.parse(row.metadata),
            previousAccountHash: accountHash,
            previousGlobalHash: globalHash,
          });
          setHash.run(Buffer.from(hash, 'hex'), Buffer.from(accountHash, 'hex'), Buffer.from(globalHash, 'hex'), row.position);
          globalHash = hash;
        }
        if (rows.length > 0) moveHead.run(rows[rows.length - 1].position, Buffer.from(globalHash, 'hex'));
        filled += rows.length;
        from = rows.length > 0 ? rows[rows.length - 1].position + 1 : from;
        return rows.length < batchSize;
      })
      .immediate();
    if (done || batch === limits.maxBatches) return { filled };
  }
}

function hexOf(hash: Buffer | null | undefined): string {
  return hash ? hash.toString('hex') : GENESIS_HASH;
}
