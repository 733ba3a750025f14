import { EventData, JSONType, RecordedEvent as EsdbRecordedEvent, jsonEvent } from '@eventstore/db-client';
import { CorruptEventError, EventChain, EventMetadata, EventToAppend, InvalidAppendError, RecordedEvent } from '../event-store.port';
import { toRevision } from './eventstoredb-positions';

/** ESDB event ids are UUIDs; ours are sent as they are, so the server's idempotency applies. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A stream name belongs to the global log when it starts with one of the prefixes (as the server filter does). */
export function matchesPrefixes(streamId: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => streamId.startsWith(prefix));
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
/** The metadata key that carries an event's account-chain links on EventStoreDB (docs/audit.md). */
export const ESDB_CHAIN_METADATA_KEY = '$chain';

export function toEventData(recorded: EventToAppend, chain?: Pick<EventChain, 'hash' | 'previousAccountHash'>): EventData {
  if (typeof recorded.eventId !== 'string' || !UUID.test(recorded.eventId)) throw new InvalidAppendError(`event id ${String(recorded.eventId)} is not a UUID`);
  if (!isJsonContainer(recorded.data)) throw new InvalidAppendError(`event ${recorded.eventId}: data must be a JSON object or array`);
  if (!isJsonContainer(recorded.metadata) || Array.isArray(recorded.metadata))
    throw new InvalidAppendError(`event ${recorded.eventId}: metadata must be a JSON object`);
  try {
    JSON.stringify(recorded.data);
    JSON.stringify(recorded.metadata);
  } catch (err) {
    throw new InvalidAppendError(`event ${recorded.eventId} cannot be serialized: ${err instanceof Error ? err.message : String(err)}`);
  }
  const metadata = chain
    ? { ...recorded.metadata, [ESDB_CHAIN_METADATA_KEY]: { hash: chain.hash, previousAccountHash: chain.previousAccountHash } }
    : recorded.metadata;
  return jsonEvent({ id: recorded.eventId, type: recorded.type, data: recorded.data as JSONType, metadata: metadata as unknown as JSONType });
}

/** Why a stored event cannot be one of ours, or undefined when it can. */
function undecodable(recorded: EsdbRecordedEvent): string | undefined {
  if (!recorded.isJson) return 'it is not a JSON event';
  if (!isJsonContainer(recorded.data)) return 'its data is not a JSON object or array';
  if (!isJsonContainer(recorded.metadata) || Array.isArray(recorded.metadata)) return 'its metadata is not a JSON object';
  return undefined;
}

/**
 * Decodes events already placed in the log (`positions[i]` is events[i]'s port position). An event
 * that is not ours to decode stops the page with a CorruptEventError naming its position and
 * carrying the events decoded before it: never skipped.
 */
export function decodeEvents(events: readonly EsdbRecordedEvent[], positions: readonly number[]): RecordedEvent[] {
  const out: RecordedEvent[] = [];
  for (let index = 0; index < events.length; index++) {
    const event = events[index];
    let revision = -1;
    try {
      revision = toRevision(event.revision);
      const why = undecodable(event);
      if (why) throw new Error(why);
    } catch (err) {
      throw new CorruptEventError(positions[index], event.streamId, revision, err, out.slice());
    }
    const { [ESDB_CHAIN_METADATA_KEY]: links, ...metadata } = event.metadata as Record<string, unknown>;
    const chain = links as { hash?: unknown; previousAccountHash?: unknown } | undefined;
    out.push({
      streamId: event.streamId,
      revision,
      position: positions[index],
      eventId: event.id,
      type: event.type,
      data: event.data,
      metadata: metadata as unknown as EventMetadata,
      ...(typeof chain?.hash === 'string' && typeof chain.previousAccountHash === 'string'
        ? { chain: { hash: chain.hash, previousAccountHash: chain.previousAccountHash } }
        : {}),
    });
  }
  return out;
}
