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
}

/**
 * Decodes a page of stored rows. A row whose payload is not JSON stops the page with a
 * CorruptEventError naming its position and carrying the rows decoded before it.
 */
export function decodeRows(rows: readonly StoredRow[]): RecordedEvent[] {
  const out: RecordedEvent[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    try {
      out[i] = {
        streamId: row.streamId,
        revision: row.revision,
        position: row.position,
        eventId: row.eventId,
        type: row.type,
        data: JSON.parse(row.data),
        metadata: JSON.parse(row.metadata),
      };
    } catch (e) {
      throw new CorruptEventError(row.position, row.streamId, row.revision, e, out.slice(0, i));
    }
  }
  return out;
}
