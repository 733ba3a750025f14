import { StoredRow } from '../decode-rows';

/** The columns of a read that leaves the hash chains out, in UnchainedEventRow's order. */
const UNCHAINED_EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata';

/** A page of the log after a position (`?`, then the limit), without the hash chains; rows as UnchainedEventRow arrays (`raw`). */
export const SQLITE_READ_LOG_WITHOUT_CHAIN_SQL = `SELECT ${UNCHAINED_EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`;

export type UnchainedEventRow = readonly [position: number, streamId: string, revision: number, eventId: string, type: string, data: string, metadata: string];

export function unchainedToStored(row: UnchainedEventRow): StoredRow {
  return { position: row[0], streamId: row[1], revision: row[2], eventId: row[3], type: row[4], data: row[5], metadata: row[6] };
}
