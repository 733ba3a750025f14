import { EventData, JSONType, RecordedEvent as EsdbRecordedEvent, jsonEvent } from '@eventstore/db-client';
import { CorruptEventError, EventMetadata, EventToAppend, InvalidAppendError, RecordedEvent } from '../event-store.port';
import { toRevision } from './eventstoredb-positions';

/** ESDB event ids are UUIDs; ours are sent as they are, so the server's idempotency applies. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A stream name belongs to the global log when it starts with one of the prefixes (as the server filter does). */
export function matchesPrefixes(streamId: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => streamId.startsWith(p));
}

function isJsonContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array);
}

/**
 * One of our events as a JSON event with our id. Data must be a JSON object or array: the client
 * hands back the raw text when stored data is not JSON, so a top-level string could not be told
 * apart from a corrupt payload. Serialized here once so a payload that cannot be stored fails
 * alone, before anything is sent (the client would throw inside its own promise).
 */
export function toEventData(e: EventToAppend): EventData {
  if (typeof e.eventId !== 'string' || !UUID.test(e.eventId)) throw new InvalidAppendError(`event id ${String(e.eventId)} is not a UUID`);
  if (!isJsonContainer(e.data)) throw new InvalidAppendError(`event ${e.eventId}: data must be a JSON object or array`);
  if (!isJsonContainer(e.metadata) || Array.isArray(e.metadata)) throw new InvalidAppendError(`event ${e.eventId}: metadata must be a JSON object`);
  try {
    JSON.stringify(e.data);
    JSON.stringify(e.metadata);
  } catch (err) {
    throw new InvalidAppendError(`event ${e.eventId} cannot be serialized: ${err instanceof Error ? err.message : String(err)}`);
  }
  return jsonEvent({ id: e.eventId, type: e.type, data: e.data as JSONType, metadata: e.metadata as unknown as JSONType });
}

/** Why a stored event cannot be one of ours, or undefined when it can. */
function undecodable(e: EsdbRecordedEvent): string | undefined {
  if (!e.isJson) return 'it is not a JSON event';
  if (!isJsonContainer(e.data)) return 'its data is not a JSON object or array';
  if (!isJsonContainer(e.metadata) || Array.isArray(e.metadata)) return 'its metadata is not a JSON object';
  return undefined;
}

/**
 * Decodes events already placed in the log (`positions[i]` is events[i]'s port position). An event
 * that is not ours to decode stops the page with a CorruptEventError naming its position and
 * carrying the events decoded before it: never skipped.
 */
export function decodeEvents(events: readonly EsdbRecordedEvent[], positions: readonly number[]): RecordedEvent[] {
  const out: RecordedEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    let revision = -1;
    try {
      revision = toRevision(e.revision);
      const why = undecodable(e);
      if (why) throw new Error(why);
    } catch (err) {
      throw new CorruptEventError(positions[i], e.streamId, revision, err, out.slice());
    }
    out.push({
      streamId: e.streamId,
      revision,
      position: positions[i],
      eventId: e.id,
      type: e.type,
      data: e.data,
      metadata: e.metadata as unknown as EventMetadata,
    });
  }
  return out;
}
