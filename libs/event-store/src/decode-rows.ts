import { CorruptEventError, RecordedEvent } from './event-store.port';

/** The columns every adapter stores, payloads still as JSON text. */
export interface StoredRow {
  readonly position: number;
  readonly streamId: string;
  readonly revision: number;
  readonly eventId: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  /** Hash-chain links as lowercase hex; null where not hashed (yet). */
  readonly hash?: string | null;
  readonly previousAccountHash?: string | null;
  readonly previousGlobalHash?: string | null;
}

/**
 * Decodes a page of stored rows. A row whose payload is not JSON stops the page with a
 * CorruptEventError naming its position and carrying the rows decoded before it.
 */
export function decodeRows(rows: readonly StoredRow[]): RecordedEvent[] {
  const out: RecordedEvent[] = new Array(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    try {
      out[index] = {
        streamId: row.streamId,
        revision: row.revision,
        position: row.position,
        eventId: row.eventId,
        type: row.type,
        data: JSON.parse(row.data),
        metadata: JSON.parse(row.metadata),
        ...chainOf(row),
      };
    } catch (error) {
      throw new CorruptEventError(row.position, row.streamId, row.revision, error, out.slice(0, index));
    }
  }
  return out;
}

function chainOf(row: StoredRow): Pick<RecordedEvent, 'chain'> {
  if (!row.hash || !row.previousAccountHash) return {};
  return {
    chain: row.previousGlobalHash
      ? { hash: row.hash, previousAccountHash: row.previousAccountHash, previousGlobalHash: row.previousGlobalHash }
      : { hash: row.hash, previousAccountHash: row.previousAccountHash },
  };
}
